//! The syntax tree of the PowerShell subset the lab accepts.
//!
//! Every node that can be named in an error keeps its column (`pos`, 0-based char offset into
//! the command text) so that evaluation errors can point at the offending token with PowerShell's
//! `At line:1 char:N` marker, just as parse errors do.

/// A whole line: statements separated by `;`.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    pub statements: Vec<Statement>,
    /// Notes about input the parser tolerated (see `parser::TRAILING_GT_NOTE`).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `$x = …` or `$x.Prop = …`.
    Assign {
        target: Expr,
        value: Pipeline,
    },
    Pipeline(Pipeline),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub elements: Vec<Element>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Element {
    Command(Command),
    Expr(Expr),
}

/// `Name arg arg …` (cmdlet, alias or native program).
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub name: String,
    pub pos: usize,
    pub args: Vec<Arg>,
    /// `> file` (parsed; the lab does not write files).
    pub redirect: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// `-Name` or `-Name:value` (the value of the colon form is in `value`).
    Param {
        name: String,
        pos: usize,
        value: Option<Expr>,
        /// The token as typed (`-bool`), for native programs.
        raw: String,
    },
    Value(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    And,
    Or,
    Xor,
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Like,
    NotLike,
    Match,
    NotMatch,
    Contains,
    NotContains,
    In,
    NotIn,
    /// `+`: numbers add, text concatenates, a collection gets the right side's items appended.
    Add,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub pos: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `'…'` or a bare word in argument mode.
    Str(String),
    /// A bare word in argument mode (kept apart so numbers typed bare still bind as text to
    /// native programs).
    Bare(String),
    /// `"…"`, expanded at run time (`$name` inside is replaced).
    Expandable(String),
    Int(i64),
    /// `$name` (`$true`, `$false`, `$null`, `$_` included).
    Var(String),
    Array(Vec<Expr>),
    Member(Box<Expr>, String),
    Method(Box<Expr>, String, Vec<Expr>),
    Index(Box<Expr>, Box<Expr>),
    /// `( pipeline )`, `$( … )`: the pipeline's output, one item as itself.
    Sub(Box<Pipeline>),
    /// `@( pipeline )`: the pipeline's output, always an array (`@("a")` has one item).
    ArraySub(Box<Pipeline>),
    Script(std::sync::Arc<ScriptBlock>),
    /// `@{ Add = "OAuth"; Remove = "Basic" }` (keys in order).
    Hash(Vec<(String, Expr)>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>, bool),
}

/// `{ … }`: statements plus the source text (what a script block prints as).
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptBlock {
    pub statements: Vec<Statement>,
    pub text: String,
}
