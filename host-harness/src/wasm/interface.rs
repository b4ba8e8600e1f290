//! Which process interface a component imports: Kinode's
//! `kinode:process/standard@1.0.0` or Hyperware's
//! `hyperware:process/standard@1.0.0`. The two are the same interface under
//! two package names (same types, same functions), so the harness has one
//! host implementation, bound under Kinode's name: a Hyperware component's
//! import is renamed before it is compiled, and nothing else changes.

use std::borrow::Cow;

use wasm_encoder::reencode::{Reencode, ReencodeComponent};

/// The process interface a component was built against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessInterface {
    /// `kinode:process/standard@1.0.0`: `kinode_process_lib` 1.x, Kinode 1.0 nodes.
    Kinode,
    /// `hyperware:process/standard@1.0.0`: `hyperware_process_lib` 2.x and
    /// 3.x, hyperdrive nodes.
    Hyperware,
}

pub const KINODE_STANDARD: &str = "kinode:process/standard@1.0.0";
pub const HYPERWARE_STANDARD: &str = "hyperware:process/standard@1.0.0";

impl ProcessInterface {
    /// The runtime that links this interface.
    pub fn runtime(self) -> crate::kernel::Flavor {
        match self {
            ProcessInterface::Kinode => crate::kernel::Flavor::Kinode,
            ProcessInterface::Hyperware => crate::kernel::Flavor::Hyperdrive,
        }
    }

    pub fn import_name(self) -> &'static str {
        match self {
            ProcessInterface::Kinode => KINODE_STANDARD,
            ProcessInterface::Hyperware => HYPERWARE_STANDARD,
        }
    }

    /// Reads the component's top-level imports. Importing both interfaces,
    /// or neither, is not a process either runtime would run.
    pub fn of(component: &[u8]) -> Result<ProcessInterface, String> {
        let imports = top_level_imports(component)?;
        let has = |name: &str| imports.iter().any(|i| i == name);
        match (has(KINODE_STANDARD), has(HYPERWARE_STANDARD)) {
            (true, false) => Ok(ProcessInterface::Kinode),
            (false, true) => Ok(ProcessInterface::Hyperware),
            (true, true) => Err(format!(
                "imports both {KINODE_STANDARD} and {HYPERWARE_STANDARD}; a process is built \
                 against one SDK (kinode_process_lib or hyperware_process_lib)"
            )),
            (false, false) => Err(format!(
                "imports neither {KINODE_STANDARD} nor {HYPERWARE_STANDARD}, so the harness \
                 cannot tell which runtime it is for (a node would run it if it never calls \
                 the process interface; its imports: {})",
                if imports.is_empty() {
                    "none".to_string()
                } else {
                    imports.join(", ")
                }
            )),
        }
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

/// The component as the harness's linker takes it: a Hyperware component
/// (`interface`, from [`ProcessInterface::of`]) with its
/// `hyperware:process/standard@1.0.0` import renamed to Kinode's; any
/// other component as it is.
pub fn as_kinode(component: &[u8], interface: ProcessInterface) -> Result<Cow<'_, [u8]>, String> {
    if interface != ProcessInterface::Hyperware {
        return Ok(Cow::Borrowed(component));
    }
    let mut out = wasm_encoder::Component::new();
    RenameImport { depth: 0 }
        .parse_component(&mut out, wasmparser::Parser::new(0), component)
        .map_err(|e| format!("cannot rename its {HYPERWARE_STANDARD} import: {e}"))?;
    Ok(Cow::Owned(out.finish()))
}

/// Re-encodes a component unchanged but for the one import's name, at the
/// top level only: a nested component (as `compose` makes) keeps its own
/// import, which its parent's instantiation supplies by that name.
struct RenameImport {
    depth: usize,
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
            if self.depth == 0 && import.name.name == HYPERWARE_STANDARD {
                imports.import(KINODE_STANDARD, ty);
            } else {
                imports.import(import.name, ty);
            }
        }
        Ok(())
    }
}
