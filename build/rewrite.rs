//! Changes to progenitor's generated code where it has no setting for what the facade needs:
//! - [`PlainSetters`]: the builders' setters of optional fields take the value itself
//!   (`.title("x")` rather than `.title(Some("x".to_owned()))`), and each gets a twin
//!   `set_title(Option<_>)` for callers that hold an `Option`, as the AWS SDK's builders have;
//! - [`UnsetIsNone`]: required but nullable fields (`NewRelease.parameters`) start as `None`;
//! - [`KeepEmpty`]: the types that only answers use keep their empty lists and maps when
//!   serialized (`"tenants": []`), so that what a program or the CLI prints of an answer is what
//!   the service sent; request types still leave an unset list out, so a PATCH does not clear it.
//!
//! - [`RawKeywords`]: identifiers that are keywords in edition 2024 are escaped;
//! - [`DocumentedBuilders`]: each type's `builder()` and each builder say what they are and
//!   link each other, so that the builders are found without guessing `types::builder`.
//!
//! Each depends on the shape of typify's output, so [`all`] fails the build with a message naming
//! the shape it expected when a rewrite finds nothing to change: an upgrade of progenitor that
//! changes the shape is caught at once, not shipped as a silently different API.

use std::collections::HashSet;

use syn::{punctuated::Punctuated, visit_mut::VisitMut};

/// Applies every rewrite to the generated `file`; `answers_only` names the types that only
/// answers use. Fails when a rewrite no longer finds the shape it was written for.
pub fn all(file: &mut syn::File, answers_only: &HashSet<String>) -> Result<(), String> {
    let mut setters = PlainSetters::default();
    setters.visit_file_mut(file);
    expect(
        setters.optional.len(),
        "PlainSetters",
        "builder setters bounded by `T: TryInto<Option<Inner>>` whose body calls `value.try_into()`",
    )?;
    let mut unset = UnsetIsNone { plain: setters.optional, changed: 0 };
    unset.visit_file_mut(file);
    expect(
        unset.changed,
        "UnsetIsNone",
        "a builder's `impl Default` ending in a struct expression that initialises a plain-setter field",
    )?;
    let mut keep = KeepEmpty { types: answers_only, changed: 0 };
    keep.visit_file_mut(file);
    expect(
        keep.changed,
        "KeepEmpty",
        "fields of answer types with `#[serde(default, skip_serializing_if = \"...::is_empty\")]`",
    )?;
    RawKeywords.visit_file_mut(file);
    let mut documented = DocumentedBuilders::default();
    documented.visit_file_mut(file);
    expect(
        documented.changed,
        "DocumentedBuilders",
        "`impl X { pub fn builder() -> builder::X }` and the structs of `mod types { mod builder }`",
    )?;
    Ok(())
}

/// Documents the builders of the request and answer types: `X::builder()` links its builder
/// type, and each builder links its type and says how it is used.
#[derive(Default)]
struct DocumentedBuilders {
    /// Whether the visit is inside `mod types`, and then inside its `mod builder`.
    in_types: bool,
    in_builders: bool,
    changed: usize,
}

impl VisitMut for DocumentedBuilders {
    fn visit_item_mod_mut(&mut self, module: &mut syn::ItemMod) {
        let (types, builders) = (self.in_types, self.in_builders);
        if module.ident == "types" && !self.in_types {
            self.in_types = true;
        } else if module.ident == "builder" && self.in_types {
            self.in_builders = true;
            let doc = " The builders of the types of this module: `X::builder()` makes one, each setter takes \
                       a plain value (or a nested builder), and every operation takes a builder in \
                       place of the type it builds; `X::try_from(builder)` checks that every \
                       required field was set.";
            module.attrs.retain(|attr| !attr.path().is_ident("doc"));
            module.attrs.insert(0, syn::parse_quote!(#[doc = #doc]));
        }
        syn::visit_mut::visit_item_mod_mut(self, module);
        (self.in_types, self.in_builders) = (types, builders);
    }

    fn visit_item_struct_mut(&mut self, item: &mut syn::ItemStruct) {
        if self.in_builders {
            let name = item.ident.to_string();
            let doc = format!(
                " Builds a [`{name}`](super::{name}) field by field; made by \
                 [`{name}::builder()`](super::{name}::builder)."
            );
            item.attrs.insert(0, syn::parse_quote!(#[doc = #doc]));
            self.changed += 1;
        }
    }

    fn visit_item_impl_mut(&mut self, block: &mut syn::ItemImpl) {
        if !self.in_types || self.in_builders || block.trait_.is_some() {
            return;
        }
        let Some(name) = type_name(&block.self_ty) else { return };
        for item in &mut block.items {
            if let syn::ImplItem::Fn(function) = item
                && function.sig.ident == "builder"
            {
                let doc = format!(
                    " A builder of a `{name}`: [`builder::{name}`], whose setters take plain values."
                );
                function.attrs.insert(0, syn::parse_quote!(#[doc = #doc]));
                self.changed += 1;
            }
        }
    }
}

/// Escapes the words that are keywords in this crate's edition but not in the one typify writes
/// for: its `JsonSchema` impls (with the `schemars` feature) name `schemars::gen` and a `gen`
/// argument.
struct RawKeywords;

impl VisitMut for RawKeywords {
    fn visit_ident_mut(&mut self, ident: &mut syn::Ident) {
        if ident == "gen" {
            *ident = syn::Ident::new_raw("gen", ident.span());
        }
    }
}

fn expect(changed: usize, rewrite: &str, shape: &str) -> Result<(), String> {
    if changed > 0 {
        return Ok(());
    }
    Err(format!(
        "the rewrite {rewrite} in build/rewrite.rs found nothing to change: it expects {shape}. \
         progenitor or typify now generates another shape; adapt the rewrite to it"
    ))
}

/// Makes the setters of optional fields plain and adds their `set_` twins. Progenitor's setters
/// are generic over `T: TryInto<Option<Inner>>`; the bound becomes `T: TryInto<Inner>` and the
/// value is wrapped in `Some` after the conversion. It notes each builder's fields so changed,
/// for [`UnsetIsNone`].
#[derive(Default)]
pub struct PlainSetters {
    /// The builder whose `impl` block is being visited.
    current: Option<String>,
    /// (builder, field) of every setter made plain.
    pub optional: HashSet<(String, String)>,
    /// The twins to add to the impl block being visited.
    twins: Vec<syn::ImplItem>,
}

/// The last segment of a type's path, such as `NewRelease`.
fn type_name(ty: &syn::Type) -> Option<String> {
    let syn::Type::Path(path) = ty else { return None };
    Some(path.path.segments.last()?.ident.to_string())
}

impl VisitMut for PlainSetters {
    fn visit_item_impl_mut(&mut self, block: &mut syn::ItemImpl) {
        self.current = if block.trait_.is_none() { type_name(&block.self_ty) } else { None };
        syn::visit_mut::visit_item_impl_mut(self, block);
        block.items.append(&mut self.twins);
        self.current = None;
    }

    fn visit_impl_item_fn_mut(&mut self, function: &mut syn::ImplItemFn) {
        let Some(clause) = function.sig.generics.where_clause.as_mut() else { return };
        let mut unwrapped = None;
        for predicate in &mut clause.predicates {
            let syn::WherePredicate::Type(bound) = predicate else { continue };
            for bound in &mut bound.bounds {
                let syn::TypeParamBound::Trait(bound) = bound else { continue };
                let Some(last) = bound.path.segments.last_mut() else { continue };
                if last.ident != "TryInto" {
                    continue;
                }
                let syn::PathArguments::AngleBracketed(arguments) = &mut last.arguments else { continue };
                let Some(syn::GenericArgument::Type(target)) = arguments.args.first_mut() else { continue };
                if let Some(inner) = option_inner(target) {
                    *target = inner.clone();
                    unwrapped = Some(inner);
                }
            }
        }
        let (Some(inner), Some(builder)) = (unwrapped, &self.current) else { return };
        let mut wrap = WrapInSome(false);
        wrap.visit_block_mut(&mut function.block);
        if !wrap.0 {
            return;
        }
        let field = &function.sig.ident;
        self.optional.insert((builder.clone(), field.to_string()));
        let twin = syn::Ident::new(&format!("set_{field}"), field.span());
        let doc = format!("Sets `{field}` from an `Option`: `None` leaves it out.");
        self.twins.push(syn::parse_quote! {
            #[doc = #doc]
            pub fn #twin(mut self, value: ::std::option::Option<#inner>) -> Self {
                self.#field = Ok(value);
                self
            }
        });
    }
}

/// Makes a builder's required but nullable fields (`NewRelease.parameters`) start as `None`
/// rather than as "no value supplied": their plain setter can no longer be given `None`, and null
/// is what the service expects when there is nothing to say. The field is still always sent.
pub struct UnsetIsNone {
    plain: HashSet<(String, String)>,
    changed: usize,
}

impl VisitMut for UnsetIsNone {
    fn visit_item_impl_mut(&mut self, block: &mut syn::ItemImpl) {
        let is_default = block.trait_.as_ref().is_some_and(|(_, path, _)| {
            path.segments.last().is_some_and(|segment| segment.ident == "Default")
        });
        let Some(builder) = type_name(&block.self_ty).filter(|_| is_default) else { return };
        for item in &mut block.items {
            let syn::ImplItem::Fn(function) = item else { continue };
            let Some(syn::Stmt::Expr(syn::Expr::Struct(init), _)) = function.block.stmts.last_mut() else {
                continue;
            };
            for field in &mut init.fields {
                let syn::Member::Named(name) = &field.member else { continue };
                let required = matches!(&field.expr, syn::Expr::Call(call) if is_err_call(call));
                if required && self.plain.contains(&(builder.clone(), name.to_string())) {
                    field.expr = syn::parse_quote!(Ok(Default::default()));
                    self.changed += 1;
                }
            }
        }
    }
}

/// Whether `call` is `Err(..)`: how a builder's `Default` marks a required field as unset.
fn is_err_call(call: &syn::ExprCall) -> bool {
    matches!(&*call.func, syn::Expr::Path(path) if path.path.is_ident("Err"))
}

/// The `Inner` of a type spelled `Option<Inner>` (with any path before `Option`).
fn option_inner(ty: &syn::Type) -> Option<syn::Type> {
    let syn::Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(arguments) = &last.arguments else { return None };
    match arguments.args.first()? {
        syn::GenericArgument::Type(inner) => Some(inner.clone()),
        _ => None,
    }
}

/// Turns `value.try_into()` into `value.try_into().map(Some)` in a setter's body; notes whether
/// it found one.
struct WrapInSome(bool);

impl VisitMut for WrapInSome {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::MethodCall(call) = expr
            && call.method == "try_into"
            && call.args.is_empty()
        {
            let converted = call.clone();
            *expr = syn::parse_quote!(#converted.map(Some));
            self.0 = true;
            return;
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

/// Drops `skip_serializing_if = "...is_empty"` from the fields of the types in its set, keeping
/// every other part of their `#[serde(...)]` attributes (a `rename` above all).
pub struct KeepEmpty<'a> {
    types: &'a HashSet<String>,
    changed: usize,
}

impl VisitMut for KeepEmpty<'_> {
    fn visit_item_struct_mut(&mut self, item: &mut syn::ItemStruct) {
        if !self.types.contains(&item.ident.to_string()) {
            return;
        }
        for field in &mut item.fields {
            for attribute in &mut field.attrs {
                let syn::Meta::List(list) = &attribute.meta else { continue };
                if !list.path.is_ident("serde") {
                    continue;
                }
                let Ok(parts) =
                    list.parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
                else {
                    continue;
                };
                let kept: Punctuated<syn::Meta, syn::Token![,]> =
                    parts.iter().filter(|part| !skips_when_empty(part)).cloned().collect();
                if kept.len() < parts.len() {
                    *attribute = syn::parse_quote!(#[serde(#kept)]);
                    self.changed += 1;
                }
            }
        }
    }
}

/// Whether `part` is `skip_serializing_if = "...is_empty"`.
fn skips_when_empty(part: &syn::Meta) -> bool {
    let syn::Meta::NameValue(pair) = part else { return false };
    let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(text), .. }) = &pair.value else { return false };
    pair.path.is_ident("skip_serializing_if") && text.value().ends_with("is_empty")
}

#[cfg(test)]
mod tests {
    //! The shapes of typify 0.8's output that the rewrites are written for, pinned here.

    use std::collections::HashSet;

    use quote::ToTokens;

    use super::all;

    /// An answer type with a camelCase optional list, a request builder with an optional field
    /// and a required nullable one, as typify 0.8 writes them.
    const GENERATED: &str = r#"
        pub struct Answer {
            #[serde(rename = "blocksConfig", default, skip_serializing_if = "::std::vec::Vec::is_empty")]
            pub blocks_config: ::std::vec::Vec<::std::string::String>,
            #[serde(default, skip_serializing_if = ":: std :: collections :: HashMap::is_empty")]
            pub run: ::std::collections::HashMap<::std::string::String, i64>,
        }
        pub struct Request {
            #[serde(default, skip_serializing_if = "::std::vec::Vec::is_empty")]
            pub tags: ::std::vec::Vec<::std::string::String>,
        }
        pub struct NewRelease {
            notes: ::std::result::Result<::std::option::Option<::std::string::String>, ::std::string::String>,
            parameters: ::std::result::Result<::std::option::Option<super::Parameters>, ::std::string::String>,
        }
        impl ::std::default::Default for NewRelease {
            fn default() -> Self {
                Self {
                    notes: Ok(Default::default()),
                    parameters: Err("no value supplied for parameters".to_string()),
                }
            }
        }
        impl NewRelease {
            pub fn notes<T>(mut self, value: T) -> Self
            where
                T: ::std::convert::TryInto<::std::option::Option<::std::string::String>>,
                T::Error: ::std::fmt::Display,
            {
                self.notes = value
                    .try_into()
                    .map_err(|e| format!("error converting supplied value for notes: {e}"));
                self
            }
            pub fn parameters<T>(mut self, value: T) -> Self
            where
                T: ::std::convert::TryInto<::std::option::Option<super::Parameters>>,
                T::Error: ::std::fmt::Display,
            {
                self.parameters = value
                    .try_into()
                    .map_err(|e| format!("error converting supplied value for parameters: {e}"));
                self
            }
        }
        pub mod types {
            pub struct Tag {}
            impl Tag {
                pub fn builder() -> builder::Tag {
                    Default::default()
                }
            }
            /// Types for composing complex structures.
            pub mod builder {
                pub struct Tag {}
            }
        }
    "#;

    fn rewritten() -> String {
        let mut file: syn::File = syn::parse_str(GENERATED).unwrap();
        all(&mut file, &HashSet::from(["Answer".to_owned()])).unwrap();
        file.to_token_stream().to_string()
    }

    #[test]
    fn builders_and_builder_functions_link_each_other() {
        let code = rewritten();
        assert!(code.contains("A builder of a `Tag`: [`builder::Tag`]"), "{code}");
        assert!(code.contains("Builds a [`Tag`](super::Tag) field by field"), "{code}");
        assert!(code.contains("The builders of the types of this module"), "{code}");
        assert!(!code.contains("Types for composing complex structures"), "the old doc is replaced: {code}");
    }

    #[test]
    fn answer_types_keep_empty_lists_and_their_renames() {
        let code = rewritten();
        assert!(
            code.contains(r#"# [serde (rename = "blocksConfig" , default)] pub blocks_config"#),
            "{code}"
        );
        assert!(code.contains("# [serde (default)] pub run"), "{code}");
        assert!(code.contains(r#"skip_serializing_if = "::std::vec::Vec::is_empty")] pub tags"#), "{code}");
    }

    #[test]
    fn optional_setters_take_plain_values_and_have_set_twins() {
        let code = rewritten();
        assert!(code.contains("T : :: std :: convert :: TryInto < :: std :: string :: String >"), "{code}");
        assert!(code.contains("value . try_into () . map (Some)"), "{code}");
        assert!(
            code.contains(
                "pub fn set_notes (mut self , value : :: std :: option :: Option < :: std :: string :: String >) \
                 -> Self { self . notes = Ok (value) ; self }"
            ),
            "{code}"
        );
    }

    #[test]
    fn required_nullable_fields_start_as_none() {
        let code = rewritten();
        assert!(code.contains("parameters : Ok (Default :: default ())"), "{code}");
        assert!(!code.contains("no value supplied for parameters"), "{code}");
    }

    #[test]
    fn keywords_of_the_crates_edition_are_escaped() {
        let mut file: syn::File = syn::parse_str(&format!(
            "{GENERATED} impl Answer {{ fn json_schema(gen: &mut ::schemars::gen::SchemaGenerator) {{}} }}"
        ))
        .unwrap();
        all(&mut file, &HashSet::from(["Answer".to_owned()])).unwrap();
        let code = file.to_token_stream().to_string();
        assert!(code.contains("r#gen : & mut :: schemars :: r#gen :: SchemaGenerator"), "{code}");
    }

    #[test]
    fn a_shape_the_rewrites_do_not_know_fails_with_a_message() {
        let mut file: syn::File = syn::parse_str("pub struct Answer { pub id: String }").unwrap();
        let why = all(&mut file, &HashSet::new()).unwrap_err();
        assert!(why.contains("PlainSetters") && why.contains("TryInto<Option<Inner>>"), "{why}");
    }
}
