//! CEL for the admission-policy export: the vocabulary each check's `cel` builds its test and PSA's
//! wording from, as text in Kubernetes' CEL environment of v1.30 (where `ValidatingAdmissionPolicy` is GA):
//! cel-go's standard macros and operators, the strings extension's `join`, `split`, `trim`, `substring`
//! and `strings.quote`, and Kubernetes' list `indexOf`. Nothing newer (`sort`, `distinct`, `flatten`,
//! two-variable comprehensions, the `.?` optional syntax), so the policy loads on every cluster that
//! has the API.
//!
//! The policy (`crate::vap`) declares the variables used here: `variables.spec`, `variables.annotations`
//! and `variables.volumes` (the pod's, whatever the kind), `variables.containers` (init containers,
//! containers, ephemeral containers: PSA's walk) and `variables.positions` (0, 1, … for sorting).

/// One check's CEL at one version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cel {
    /// True when the pod passes the check.
    pub expression: String,
    /// PSA's reason, a string expression (a literal but for AppArmor's plural).
    pub reason: String,
    /// PSA's detail for a pod that fails, a string expression.
    pub detail: String,
}

impl Cel {
    /// A check whose reason is a fixed phrase.
    pub(crate) fn new(expression: String, reason: &str, detail: String) -> Self {
        Self {
            expression,
            reason: literal(reason),
            detail,
        }
    }
}

/// How many values the message of one check sorts at most: `variables.positions` is `[0, …, N-1]`
/// (CEL of v1.30 has no `sort()`, so a sorted list is built by rank, position by position). Longer lists
/// lose their tail in the message only; the verdict never depends on it.
pub const SORTED_POSITIONS: usize = 1000;

/// A character no Kubernetes name, capability, port or host holds, used to flatten lists of lists of
/// strings by joining and splitting them (CEL of v1.30 has no `flatten()`).
const SEPARATOR: &str = "\\u001f";

/// A CEL string literal.
pub(crate) fn literal(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('\'');
    for c in text.chars() {
        match c {
            '\\' => quoted.push_str("\\\\"),
            '\'' => quoted.push_str("\\'"),
            '\n' => quoted.push_str("\\n"),
            c => quoted.push(c),
        }
    }
    quoted.push('\'');
    quoted
}

/// A CEL list of string literals.
pub(crate) fn literal_list(items: &[&str]) -> String {
    let items: Vec<String> = items.iter().map(|item| literal(item)).collect();
    format!("[{}]", items.join(", "))
}

/// `has(base.a) && has(base.a.b)`: whether a dotted path is set (the API server drops nulls).
pub(crate) fn has(base: &str, path: &str) -> String {
    let mut tests = Vec::new();
    let mut prefix = base.to_string();
    for key in path.split('.') {
        prefix = format!("{prefix}.{key}");
        tests.push(format!("has({prefix})"));
    }
    format!("({})", tests.join(" && "))
}

/// Whether a dotted path is set to `value` (a CEL literal).
pub(crate) fn is(base: &str, path: &str, value: &str) -> String {
    format!("({} && {base}.{path} == {value})", has(base, path))
}

/// A dotted path's value, or `default` when it is not set.
pub(crate) fn or_default(base: &str, path: &str, default: &str) -> String {
    format!("({} ? {base}.{path} : {default})", has(base, path))
}

/// `body` with `value` evaluated once and named `name` (CEL of v1.30 has no `cel.bind`).
pub(crate) fn bind(value: &str, name: &str, body: &str) -> String {
    format!("[{value}].map({name}, {body})[0]")
}

/// `"a", "b"` (upstream's `joinQuote`) of a list of strings.
pub(crate) fn quote_joined(list: &str) -> String {
    format!("'\"' + ({list}).join('\", \"') + '\"'")
}

/// `singular` when the list has one item, else `plural`.
pub(crate) fn plural(list: &str, singular: &str, plural: &str) -> String {
    format!(
        "(size({list}) == 1 ? {} : {})",
        literal(singular),
        literal(plural)
    )
}

/// `container "a"` or `containers "a", "b"` of a list of names.
pub(crate) fn containers_named(names: &str) -> String {
    bind(
        names,
        "n",
        &format!(
            "{} + ' ' + {}",
            plural("n", "container", "containers"),
            quote_joined("n")
        ),
    )
}

/// `pod`, then the containers, joined with ` and ` (upstream's setters phrase).
pub(crate) fn setters_of(pod: &str, names: &str) -> String {
    bind(
        names,
        "n",
        &format!(
            "((({pod}) ? ['pod'] : []) + (size(n) > 0 ? [{}] : [])).join(' and ')",
            containers_named("n")
        ),
    )
}

/// The names of the containers for which `bad` (over `c`) holds, in PSA's walk order.
pub(crate) fn names_where(bad: &str) -> String {
    format!("variables.containers.filter(c, {bad}).map(c, c.name)")
}

/// A list of strings sorted by byte value without duplicates, as upstream's string sets list themselves:
/// the distinct values (each kept at its first position), then each one's rank among them.
pub(crate) fn sorted_distinct(list: &str) -> String {
    let distinct = "variables.positions.filter(i, i < size(l) && l.indexOf(l[i]) == i).map(i, l[i])";
    let by_rank = bind(
        "d.map(x, d.filter(y, y < x).size())",
        "r",
        "variables.positions.filter(i, i < size(d)).map(i, d[r.indexOf(i)])",
    );
    bind(list, "l", &bind(distinct, "d", &by_rank))
}

/// One list of the strings of a list of lists of strings.
pub(crate) fn flatten(lists: &str) -> String {
    let sep = format!("'{SEPARATOR}'");
    bind(
        &format!("({lists}).map(l, l.join({sep})).filter(s, s != '').join({sep})"),
        "s",
        &format!("s == '' ? [] : s.split({sep})"),
    )
}

/// The pod's `securityContext` field `path` is set (the base of pod-level settings).
pub(crate) fn pod_has(path: &str) -> String {
    has("variables.spec", &format!("securityContext.{path}"))
}

/// The pod's `securityContext` field `path` is set to `value`.
pub(crate) fn pod_is(path: &str, value: &str) -> String {
    is("variables.spec", &format!("securityContext.{path}"), value)
}

/// A container's (`c`) `securityContext` field `path` is set.
pub(crate) fn container_has(path: &str) -> String {
    has("c", &format!("securityContext.{path}"))
}

/// A container's (`c`) `securityContext` field `path` is set to `value`.
pub(crate) fn container_is(path: &str, value: &str) -> String {
    is("c", &format!("securityContext.{path}"), value)
}

/// `spec.hostUsers: false`: a pod in a user namespace (relaxations from v1.35).
pub(crate) const USER_NAMESPACE: &str =
    "(has(variables.spec.hostUsers) && variables.spec.hostUsers == false)";

/// `spec.os.name: windows` (relaxations from v1.25).
pub(crate) const WINDOWS: &str =
    "(has(variables.spec.os) && has(variables.spec.os.name) && variables.spec.os.name == 'windows')";

/// `expression`, passing outright when `relaxed` holds.
pub(crate) fn unless(relaxed: &str, expression: &str) -> String {
    format!("{relaxed} || ({expression})")
}

/// `passes`, and from v1.25 also any pod with `spec.os.name: windows` (the restricted checks that upstream
/// relaxes for Windows at that version).
pub(crate) fn windows_passes_from_v1_25(minor: u32, passes: String) -> String {
    if minor >= 25 {
        unless(WINDOWS, &passes)
    } else {
        passes
    }
}
