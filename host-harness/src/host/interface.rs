//! Which runtime a component was built for, by the process interface it
//! imports (each runtime's profile names its own: Kinode's
//! `kinode:process/standard@1.0.0`, Hyperware's
//! `hyperware:process/standard@1.0.0`). They are the same interface under
//! other package names (same types, same functions), so the harness has
//! one host implementation, bound under Kinode's name: another runtime's
//! import is renamed before the component is compiled, and nothing else
//! changes.

use std::borrow::Cow;

use wasm_encoder::reencode::{Reencode, ReencodeComponent};

use crate::types::Runtime;

/// The interface the harness's linker provides: Kinode's. Every other
/// runtime's process interface is the same one under another name.
const LINKED: &str = componentize::STANDARD_INTERFACE;

/// The runtime a component was built for: the one whose process interface
/// it imports. Importing two, or none, is not a process any runtime would
/// run.
pub fn built_for(component: &[u8]) -> Result<Runtime, String> {
    let imports = top_level_imports(component)?;
    let found: Vec<Runtime> = Runtime::ALL
        .into_iter()
        .filter(|runtime| imports.iter().any(|i| i == runtime.profile().interface))
        .collect();
    let names = || {
        Runtime::ALL
            .iter()
            .map(|r| r.profile().interface)
            .collect::<Vec<_>>()
    };
    match found.as_slice() {
        [runtime] => Ok(*runtime),
        [] => Err(format!(
            "imports neither {}, so the harness cannot tell which runtime it is for (a node \
             would run it if it never calls the process interface; its imports: {})",
            names().join(" nor "),
            if imports.is_empty() {
                "none".to_string()
            } else {
                imports.join(", ")
            }
        )),
        several => Err(format!(
            "imports both {}; a process is built against one SDK ({})",
            several
                .iter()
                .map(|r| r.profile().interface)
                .collect::<Vec<_>>()
                .join(" and "),
            several
                .iter()
                .map(|r| r.profile().sdk)
                .collect::<Vec<_>>()
                .join(" or "),
        )),
    }
}

/// The names a component imports at its top level (componentize's reader).
fn top_level_imports(component: &[u8]) -> Result<Vec<String>, String> {
    if !wasmparser::Parser::is_component(component) {
        return Err(
            "not a loadable WebAssembly component: it does not start with a component header"
                .into(),
        );
    }
    componentize::component_interface(component)
        .map(|interface| interface.imports)
        .map_err(|e| format!("not a loadable WebAssembly component: {e}"))
}

/// The component as the harness's linker takes it: one built for another
/// runtime (`built_for`, from [`built_for`]) with that runtime's process
/// interface import renamed to the linked one; a Kinode component as it is.
pub fn as_linked(component: &[u8], built_for: Runtime) -> Result<Cow<'_, [u8]>, String> {
    let import = built_for.profile().interface;
    if import == LINKED {
        return Ok(Cow::Borrowed(component));
    }
    let mut out = wasm_encoder::Component::new();
    RenameImport { depth: 0, import }
        .parse_component(&mut out, wasmparser::Parser::new(0), component)
        .map_err(|e| format!("cannot rename its {import} import: {e}"))?;
    Ok(Cow::Owned(out.finish()))
}

/// Re-encodes a component unchanged but for the one import's name, at the
/// top level only: a nested component (as `compose` makes) keeps its own
/// import, which its parent's instantiation supplies by that name.
struct RenameImport {
    depth: usize,
    import: &'static str,
}

impl Reencode for RenameImport {
    type Error = std::convert::Infallible;
}

impl ReencodeComponent for RenameImport {
    fn push_depth(&mut self) {
        self.depth += 1;
    }

    fn pop_depth(&mut self) {
        self.depth -= 1;
    }

    fn parse_component_import_section(
        &mut self,
        imports: &mut wasm_encoder::ComponentImportSection,
        section: wasmparser::ComponentImportSectionReader<'_>,
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        for import in section {
            let import = import?;
            let ty = self.component_type_ref(import.ty)?;
            if self.depth == 0 && import.name.name == self.import {
                imports.import(LINKED, ty);
            } else {
                imports.import(import.name, ty);
            }
        }
        Ok(())
    }
}
