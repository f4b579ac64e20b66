//! Names the operation progenitor rejects: it reports some problems with a bare assertion that
//! says nothing of where, so each operation is generated alone until one fails.

use std::panic;

use openapiv3::{OpenAPI, ReferenceOr};

/// The text of a panic's payload.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "progenitor panicked".to_string())
}

/// ` in operation ID (METHOD /path)` for the first operation that fails alone, or nothing.
pub fn find(document: &OpenAPI) -> String {
    let quiet = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let found = document.paths.paths.iter().find_map(|(path, item)| {
        let ReferenceOr::Item(item) = item else { return None };
        item.iter().find_map(|(method, operation)| {
            let mut only = item.clone();
            for (other, slot) in [
                ("get", &mut only.get),
                ("put", &mut only.put),
                ("post", &mut only.post),
                ("delete", &mut only.delete),
                ("patch", &mut only.patch),
            ] {
                if other != method {
                    *slot = None;
                }
            }
            let mut single = document.clone();
            single.paths.paths.clear();
            single.paths.paths.insert(path.clone(), ReferenceOr::Item(only));
            super::generate(&single).is_err().then(|| {
                let id = operation.operation_id.as_deref().unwrap_or("(no operationId)");
                format!(" in operation {id} ({} {path})", method.to_uppercase())
            })
        })
    });
    panic::set_hook(quiet);
    found.unwrap_or_default()
}
