//! Every PowerShell error record the shell writes, built in one place.
//!
//! A record is three texts that must match what Windows PowerShell prints — the `CategoryInfo`
//! line, the `FullyQualifiedErrorId` and the message — so each kind of error is one function
//! here, named after what went wrong, and the binder, the cmdlets and the evaluator only call
//! them. Nothing else builds a [`ShellError`] (its constructors are private to the `error`
//! module), so a text is written once and the book can point at one file. Position (`at`) and
//! the lab's nearest-name hint are added by the caller, which knows the line and the names.
//!
//! Three shapes exist: a parse error (the parser picks a [`ParseText`] here and places it with
//! [`parse`]), an error of a command (`Cmd : message`, category
//! `Category: (:) [Cmd], Exception`, id `Id,Cmd`), and an error of the session itself (no
//! command: expression errors such as calling a method on `$null`).

use super::ShellError;
use crate::shell::backend::BackendError;

/// An error of command `cmd`: `{category}: (:) [{cmd}], {exc}` and id `{id},{cmd}`.
fn of_command(
    cmd: &str,
    category: &str,
    exc: &str,
    id: &str,
    msg: impl Into<String>,
) -> ShellError {
    ShellError::runtime(
        Some(cmd),
        format!("{category}: (:) [{cmd}], {exc}"),
        &format!("{id},{cmd}"),
        msg,
    )
}

/// An error of the session (no command named).
fn of_session(category: &str, id: &str, msg: impl Into<String>) -> ShellError {
    ShellError::runtime(None, category, id, msg)
}

// ------------------------------------------------------------------------- parse

/// A parse error's `FullyQualifiedErrorId` and message, before the parser knows where to put
/// the `~` marker ([`parse`] makes the record).
#[derive(Debug, Clone, PartialEq)]
pub struct ParseText {
    pub id: &'static str,
    pub message: String,
}

fn parse_text(id: &'static str, message: impl Into<String>) -> ParseText {
    ParseText {
        id,
        message: message.into(),
    }
}

/// A `ParserError` at char offset `pos` of `line`, `width` chars wide.
pub fn parse(line: &str, pos: usize, width: usize, text: ParseText) -> ShellError {
    ShellError::parse(line, pos, width, text.id, text.message)
}

/// A token that cannot stand where it stands.
pub fn unexpected_token(tok: &str) -> ParseText {
    parse_text(
        "UnexpectedToken",
        format!("Unexpected token '{tok}' in expression or statement."),
    )
}

/// `$x =` or `1 -eq` with nothing after the operator.
pub fn missing_value_after_operator(op: &str) -> ParseText {
    parse_text(
        "ExpectedValueExpression",
        format!("You must provide a value expression following the '{op}' operator."),
    )
}

/// `a | | b`, or a line ending in `|`.
pub fn empty_pipe_element() -> ParseText {
    parse_text("EmptyPipeElement", "An empty pipe element is not allowed.")
}

/// `Get-X | $y`.
pub fn expression_after_first_pipe_element() -> ParseText {
    parse_text(
        "ExpressionsMustBeFirstInPipeline",
        "Expressions are only allowed as the first element of a pipeline.",
    )
}

/// `cmd < file`.
pub fn input_redirection_reserved() -> ParseText {
    parse_text(
        "RedirectionNotSupported",
        "The '<' operator is reserved for future use.",
    )
}

/// `cmd >` followed by the end of the pipeline.
pub fn missing_file_specification() -> ParseText {
    parse_text(
        "MissingFileSpecification",
        "Missing file specification after redirection operator.",
    )
}

/// `-Param:` with no value.
pub fn missing_expression_in_argument_list() -> ParseText {
    parse_text("MissingExpression", "Missing argument in parameter list.")
}

/// An argument that starts with `,`.
pub fn missing_argument_in_argument_list() -> ParseText {
    parse_text("MissingArgument", "Missing argument in parameter list.")
}

/// `1,` with nothing after the comma.
pub fn missing_expression_after_comma() -> ParseText {
    parse_text(
        "MissingExpressionAfterToken",
        "Missing expression after ','.",
    )
}

/// Brackets nested deeper than the lab parses.
pub fn brackets_too_deep(max: usize) -> ParseText {
    parse_text(
        "LabNestingTooDeep",
        format!("The lab parses at most {max} nested brackets."),
    )
}

/// A chain of operators or accesses deeper than the lab parses; `adds` says what counts.
pub fn chain_too_deep(max: usize, adds: &str) -> ParseText {
    parse_text(
        "LabNestingTooDeep",
        format!("The lab parses at most {max} nested expressions ({adds})."),
    )
}

/// `-not` or `!` with nothing after it.
pub fn missing_expression_after_unary(op: &str) -> ParseText {
    parse_text(
        "MissingExpressionAfterOperator",
        format!("Missing expression after unary operator '{op}'."),
    )
}

/// `$x.M(1` with no `)`.
pub fn missing_end_parenthesis_in_method_call() -> ParseText {
    parse_text(
        "MissingEndParenthesisInMethodCall",
        "Missing closing ')' in expression.",
    )
}

/// `$x[0` with no `]`.
pub fn missing_end_square_bracket() -> ParseText {
    parse_text(
        "MissingEndSquareBracket",
        "Missing ']' after array index expression.",
    )
}

/// `(` with no expression after it.
pub fn expected_expression() -> ParseText {
    parse_text(
        "ExpectedExpression",
        "An expression was expected after '('.",
    )
}

/// `{` with no `}`.
pub fn missing_end_curly_brace() -> ParseText {
    parse_text(
        "MissingEndCurlyBrace",
        "Missing closing '}' in statement block or type definition.",
    )
}

/// A string with no closing `quote`.
pub fn missing_string_terminator(quote: char) -> ParseText {
    parse_text(
        "TerminatorExpectedAtEndOfString",
        format!("The string is missing the terminator: {quote}."),
    )
}

/// A number that does not parse (`12x`).
pub fn bad_numeric_constant(w: &str) -> ParseText {
    parse_text(
        "BadNumericConstant",
        format!("The numeric constant {w} is not valid."),
    )
}

/// `@{` with no `}`.
pub fn incomplete_hash_literal() -> ParseText {
    parse_text("IncompleteHashLiteral", "The hash literal was incomplete.")
}

/// `@{=1}`.
pub fn missing_key_in_hash_literal() -> ParseText {
    parse_text(
        "MissingKeyInHashLiteral",
        "Missing key before '=' in hash literal.",
    )
}

/// `@{a 1}`.
pub fn missing_equals_in_hash_literal() -> ParseText {
    parse_text(
        "MissingEqualsInHashLiteral",
        "Missing '=' operator after key in hash literal.",
    )
}

/// `@{a=}`.
pub fn missing_statement_in_hash_literal() -> ParseText {
    parse_text(
        "MissingStatementInHashLiteral",
        "Missing statement after '=' in hash literal.",
    )
}

/// `($x = 1)`: the lab's grammar has no assignment expression.
pub fn assignment_in_parentheses() -> ParseText {
    parse_text(
        "UnexpectedToken",
        "Assignments are not supported inside parentheses in the lab.",
    )
}

/// `(1` with no `)`.
pub fn missing_end_parenthesis() -> ParseText {
    parse_text(
        "MissingEndParenthesisInExpression",
        "Missing closing ')' in expression.",
    )
}

/// A command text longer than the lab parses at once.
pub fn script_too_long(max: usize) -> ParseText {
    parse_text(
        "LabScriptTooLong",
        format!("The lab accepts at most {max} bytes of commands at once."),
    )
}

// ------------------------------------------------------------------ command lookup

/// `The term 'X' is not recognized …` (a command the lab does not know).
pub fn command_not_found(name: &str) -> ShellError {
    ShellError::runtime(
        Some(name),
        format!("ObjectNotFound: ({name}:String) [], CommandNotFoundException"),
        "CommandNotFoundException",
        format!("The term '{name}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again."),
    )
}

/// `cmd > file`: the lab writes no files.
pub fn redirection_not_modelled() -> ShellError {
    of_session(
        "NotImplemented: (:) [], LabNotModeled",
        "LabRedirectionNotModeled",
        "The lab does not write files: output redirection is not supported.",
    )
}

// ------------------------------------------------------------------ parameter binding

fn binding(cmd: &str, id: &str, msg: impl Into<String>) -> ShellError {
    of_command(cmd, "InvalidArgument", "ParameterBindingException", id, msg)
}

/// `-X` names no parameter of `cmd`.
pub fn parameter_not_found(cmd: &str, typed: &str) -> ShellError {
    binding(
        cmd,
        "NamedParameterNotFound",
        format!("A parameter cannot be found that matches parameter name '{typed}'."),
    )
}

/// `-X` is a parameter of newer builds only: the session's server (`server`, at `version`)
/// predates it, so PowerShell answers as for an unknown parameter. The lab's hint names the
/// build (Hybrid Modern Authentication's parameters came with 2013 CU19 and 2016 CU8).
pub fn parameter_not_in_build(cmd: &str, param: &str, server: &str, version: &str) -> ShellError {
    parameter_not_found(cmd, param).with_hint(Some(format!(
        "the shell runs on {server} ({version}); -{param} needs Exchange 2013 CU19+ or 2016 CU8+"
    )))
}

/// `-X` is a prefix of several parameters (`matches` already written `-Name`).
pub fn ambiguous_parameter(cmd: &str, typed: &str, matches: &[String]) -> ShellError {
    binding(
        cmd,
        "AmbiguousParameter",
        format!(
            "Parameter cannot be processed because the parameter name '{typed}' is ambiguous. Possible matches include: {}.",
            matches.join(" ")
        ),
    )
}

/// The same parameter given twice.
pub fn parameter_already_bound(cmd: &str, param: &str) -> ShellError {
    binding(
        cmd,
        "ParameterAlreadyBound",
        format!("Cannot bind parameter because parameter '{param}' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, \"-parameter value1,value2,value3\"."),
    )
}

/// `-X` with no value after it.
pub fn missing_argument(cmd: &str, param: &str, dotnet: &str) -> ShellError {
    binding(
        cmd,
        "MissingArgument",
        format!("Missing an argument for parameter '{param}'. Specify a parameter of type '{dotnet}' and try again."),
    )
}

/// A positional argument with no positional parameter left.
pub fn positional_not_found(cmd: &str, text: &str) -> ShellError {
    binding(
        cmd,
        "PositionalParameterNotFound",
        format!("A positional parameter cannot be found that accepts argument '{text}'."),
    )
}

/// Mandatory parameters left unbound (PowerShell's non-interactive message).
pub fn missing_mandatory(cmd: &str, missing: &[&str]) -> ShellError {
    binding(
        cmd,
        "MissingMandatoryParameter",
        format!(
            "Cannot process command because of one or more missing mandatory parameters: {}.",
            missing.join(" ")
        ),
    )
}

/// Pipeline input that no parameter of `cmd` takes.
pub fn input_not_bound(cmd: &str) -> ShellError {
    binding(
        cmd,
        "InputObjectNotBound",
        "The input object cannot be bound to any parameters for the command either because the command does not take pipeline input or the input and its properties do not match any of the parameters that take pipeline input.",
    )
}

/// Parameters that belong to different parameter sets.
pub fn ambiguous_parameter_set(cmd: &str) -> ShellError {
    binding(
        cmd,
        "AmbiguousParameterSet",
        "Parameter set cannot be resolved using the specified named parameters.",
    )
}

/// A value that does not convert to the parameter's type; `extra` is the ` Error: "…"` tail.
pub fn cannot_convert_value(
    cmd: &str,
    param: &str,
    shown: &str,
    dotnet: &str,
    extra: &str,
) -> ShellError {
    binding(
        cmd,
        "CannotConvertArgumentNoMessage",
        format!("Cannot bind parameter '{param}'. Cannot convert value \"{shown}\" to type \"{dotnet}\".{extra}"),
    )
}

/// A collection of several items given to a single-valued parameter that does not convert one
/// (Windows PowerShell 5.1's binder, as captured for `Get-ADComputer -Identity`).
pub fn cannot_convert_collection(
    cmd: &str,
    param: &str,
    type_name: &str,
    dotnet: &str,
) -> ShellError {
    binding(
        cmd,
        "CannotConvertArgument",
        format!("Cannot convert '{type_name}' to the type '{dotnet}' required by parameter '{param}'. Specified method is not supported."),
    )
}

/// A non-Boolean given to a Boolean or switch parameter.
pub fn not_a_boolean(cmd: &str, param: &str, type_name: &str) -> ShellError {
    of_command(
        cmd,
        "InvalidData",
        "ParameterBindingArgumentTransformationException",
        "ParameterArgumentTransformationError",
        format!("Cannot process argument transformation on parameter '{param}'. Cannot convert value \"{type_name}\" to type \"System.Boolean\". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0."),
    )
}

/// `@{Add=…; Remove=…}` with another key, given to a multi-valued parameter.
pub fn hashtable_key_not_add_or_remove(cmd: &str, param: &str, key: &str) -> ShellError {
    binding(
        cmd,
        "CannotConvertArgumentNoMessage",
        format!("Cannot bind parameter '{param}'. Cannot convert the \"System.Collections.Hashtable\" value of type \"System.Collections.Hashtable\" to type \"Microsoft.Exchange.Data.MultiValuedProperty\". The key '{key}' is not Add or Remove."),
    )
}

/// A name that is not one of an enum's names.
pub fn not_an_enum_name(
    cmd: &str,
    param: &str,
    value: &str,
    enum_type: &str,
    names: &[&str],
) -> ShellError {
    binding(
        cmd,
        "CannotConvertArgumentNoMessage",
        format!(
            "Cannot bind parameter '{param}'. Cannot convert value \"{value}\" to type \"{enum_type}\". Error: \"Unable to match the identifier name {value} to a valid enumerator name. Specify one of the following enumerator names and try again:\n{}\"",
            names.join(", ")
        ),
    )
}

/// A value that is not of the parameter's (object) type, e.g. a string for a script block.
pub fn cannot_convert_object(
    cmd: &str,
    id: &str,
    param: &str,
    shown: &str,
    type_name: &str,
    dotnet: &str,
) -> ShellError {
    binding(
        cmd,
        id,
        format!("Cannot bind parameter '{param}'. Cannot convert the \"{shown}\" value of type \"{type_name}\" to type \"{dotnet}\"."),
    )
}

/// An integer outside a lab cmdlet's `ValidateRange`.
pub fn out_of_range(cmd: &str, param: &str, n: i64, min: i64, max: i64) -> ShellError {
    let msg = if n < min {
        format!("Cannot validate argument on parameter '{param}'. The {n} argument is less than the minimum allowed range of {min}. Supply an argument that is greater than or equal to {min} and then try the command again.")
    } else {
        format!("Cannot validate argument on parameter '{param}'. The {n} argument is greater than the maximum allowed range of {max}. Supply an argument that is less than or equal to {max} and then try the command again.")
    };
    of_command(
        cmd,
        "InvalidData",
        "ParameterBindingValidationException",
        "ParameterArgumentValidationError",
        msg,
    )
}

/// A value outside a parameter's `ValidateSet` (ADFS's `-CertificateType`).
pub fn not_in_validate_set(cmd: &str, param: &str, value: &str, set: &[&str]) -> ShellError {
    of_command(
        cmd,
        "InvalidData",
        "ParameterBindingValidationException",
        "ParameterArgumentValidationError",
        format!("Cannot validate argument on parameter '{param}'. The argument \"{value}\" does not belong to the set \"{}\" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again.", set.join(",")),
    )
}

/// A real parameter the lab does not act on.
pub fn parameter_not_modelled(cmd: &str, param: &str) -> ShellError {
    ShellError::runtime(
        Some(cmd),
        format!("NotImplemented: (:) [{cmd}], LabNotModeled"),
        "LabParameterNotModeled",
        format!("The lab does not model the -{param} parameter of {cmd} (the real cmdlet has it)."),
    )
}

// ------------------------------------------------------------------ the backend

/// A failure the backend reported, as the cmdlet's error record.
pub fn from_backend(cmd: &str, e: BackendError) -> ShellError {
    of_command(cmd, &e.category, &e.error_id, &e.error_id, e.message)
}

/// Active Directory's answer for an identity it cannot find (`Get-ADUser nobody`).
pub fn ad_identity_not_found(cmd: &str, identity: &str) -> ShellError {
    of_command(
        cmd,
        "ObjectNotFound",
        "ADIdentityNotFoundException",
        "ActiveDirectoryCmdlet:Microsoft.ActiveDirectory.Management.ADIdentityNotFoundException",
        format!("Cannot find an object with identity: '{identity}' under: 'DC=contoso,DC=com'."),
    )
}

/// MSOnline's not-found answers: `exception` is `DomainNotFoundException` (`Domain x does not
/// exist.`) or `UserNotFoundException` (`User Not Found.  User: x.`).
pub fn msol_not_found(cmd: &str, exception: &str, msg: String) -> ShellError {
    of_command(
        cmd,
        "OperationStopped",
        exception,
        &format!("Microsoft.Online.Administration.Automation.{exception}"),
        msg,
    )
}

/// A service the session's backend does not have (`what`: `Azure AD's signing keys`, …).
pub fn not_supported_by_backend(cmd: &str, what: &str) -> ShellError {
    of_command(
        cmd,
        "NotImplemented",
        "NotSupportedByBackend",
        "NotSupportedByBackend",
        format!("{what} are not supported by this backend."),
    )
}

// ------------------------------------------------------------------ Exchange

/// Exchange's answer for an identity that matches nothing.
pub fn object_not_found(cmd: &str, what: &str, dc: &str) -> ShellError {
    of_command(
        cmd,
        "NotSpecified",
        "ManagementObjectNotFoundException",
        "ManagementObjectNotFoundException",
        format!("The operation couldn't be performed because object '{what}' couldn't be found on '{dc}'."),
    )
}

/// Exchange's answer for an identity of a `Set-` cmdlet that matches several objects.
pub fn object_ambiguous(cmd: &str, id: &str) -> ShellError {
    of_command(
        cmd,
        "NotSpecified",
        "ManagementObjectAmbiguousException",
        "ManagementObjectAmbiguousException",
        format!("The operation couldn't be performed because '{id}' matches multiple entries."),
    )
}

// ------------------------------------------------------------------ MSOnline

/// MSOnline's answer for a service principal that does not exist.
pub fn service_principal_not_found(cmd: &str) -> ShellError {
    of_command(
        cmd,
        "OperationStopped",
        "MicrosoftOnlineException",
        "Microsoft.Online.Administration.Automation.ServicePrincipalNotFoundException",
        "Service principal was not found.",
    )
}

/// `StrongAuthenticationRequirement.State` that is not Enabled, Enforced or Disabled.
pub fn invalid_strong_auth_state(cmd: &str, state: &str) -> ShellError {
    of_command(
        cmd,
        "OperationStopped",
        "MicrosoftOnlineException",
        "Microsoft.Online.Administration.Automation.InvalidStrongAuthenticationRequirementException",
        format!("Invalid value for parameter. Parameter Name: StrongAuthenticationRequirements. State '{state}' is not one of Enabled, Enforced, Disabled."),
    )
}

// ------------------------------------------------------------------ the lab's cmdlets

/// `Get-LabSigningKey -Kid X` when no published key matches.
pub fn no_such_key(cmd: &str, kid: &str) -> ShellError {
    of_command(
        cmd,
        "ObjectNotFound",
        "KeyNotFoundException",
        "KeyNotFound",
        format!("No published signing key has the kid '{kid}'."),
    )
}

/// `Get-LabAadFault -Id N` / `Remove-LabAadFault -Id N` when Azure AD has no such rule.
pub fn no_such_fault(cmd: &str, id: &str) -> ShellError {
    of_command(
        cmd,
        "ObjectNotFound",
        "FaultNotFoundException",
        "FaultNotFound",
        format!("No Azure AD fault rule has the id '{id}'."),
    )
}

// ------------------------------------------------------------------ the client machine

/// `Add-Computer` / `Remove-Computer`'s error records: `InvalidOperationException` on the
/// computer (`(GREGT-PC:String)`), the id with Windows PowerShell's command class.
fn of_computer(cmd: &str, category: &str, id: &str, computer: &str, msg: String) -> ShellError {
    let class = match cmd {
        "Add-Computer" => "AddComputerCommand",
        "Remove-Computer" => "RemoveComputerCommand",
        _ => "RestartComputerCommand",
    };
    ShellError::runtime(
        Some(cmd),
        format!("{category}: ({computer}:String) [{cmd}], InvalidOperationException"),
        &format!("{id},Microsoft.PowerShell.Commands.{class}"),
        msg,
    )
}

/// `Add-Computer -DomainName X` when X is not the lab's domain: Windows cannot find a domain
/// controller for it. `from` is the current workgroup (`WORKGROUP`) or domain.
pub fn domain_not_found(
    cmd: &str,
    computer: &str,
    domain: &str,
    from: Result<&str, &str>,
) -> ShellError {
    let (id, current) = match from {
        Ok(workgroup) => (
            "FailToJoinDomainFromWorkgroup",
            format!("workgroup '{workgroup}'"),
        ),
        Err(domain) => ("FailToJoinDomainFromDomain", format!("domain '{domain}'")),
    };
    of_computer(
        cmd,
        "OperationStopped",
        id,
        computer,
        format!("Computer '{computer}' failed to join domain '{domain}' from its current {current} with following error message: The specified domain either does not exist or could not be contacted."),
    )
}

/// `Add-Computer -DomainName X` on a computer already in X.
pub fn already_in_domain(cmd: &str, computer: &str, domain: &str) -> ShellError {
    of_computer(
        cmd,
        "InvalidOperation",
        "AddComputerToSameDomain",
        computer,
        format!("Cannot add computer '{computer}' to domain '{domain}' because it is already in that domain."),
    )
}

/// `Remove-Computer` on a computer in a workgroup.
pub fn not_in_domain(cmd: &str, computer: &str) -> ShellError {
    of_computer(
        cmd,
        "InvalidOperation",
        "ComputerNotInDomain",
        computer,
        format!("The computer '{computer}' is not in a domain."),
    )
}

// ------------------------------------------------------------------ PowerShell's own cmdlets

/// `New-Object` of a type the lab does not know.
pub fn type_not_found(cmd: &str, t: &str) -> ShellError {
    of_command(
        cmd,
        "InvalidType",
        "PSArgumentException",
        "TypeNotFound",
        format!("Cannot find type [{t}]: verify that the assembly containing this type is loaded."),
    )
}

/// `Import-Module` of a module the lab does not have.
pub fn module_not_found(cmd: &str, m: &str) -> ShellError {
    of_command(
        cmd,
        "ResourceUnavailable",
        "FileNotFoundException",
        "Modules_ModuleNotFound",
        format!("The specified module '{m}' was not loaded because no valid module file was found in any module directory."),
    )
}

/// `Select-Object -ExpandProperty P` on an object without `P`.
pub fn expand_property_not_found(cmd: &str, type_name: &str, p: &str) -> ShellError {
    ShellError::runtime(
        Some(cmd),
        format!("InvalidArgument: ({type_name}:PSObject) [Select-Object], PSArgumentException"),
        "ExpandPropertyNotFound,Microsoft.PowerShell.Commands.SelectObjectCommand",
        format!("Property \"{p}\" cannot be found."),
    )
}

/// `*-ItemProperty` on a path that is not a registry path.
pub fn path_not_modelled(cmd: &str, path: &str) -> ShellError {
    of_command(
        cmd,
        "NotImplemented",
        "LabNotModeled",
        "LabPathNotModeled",
        format!("The lab models only registry paths (HKCU:\\…, HKLM:\\…), not '{path}'."),
    )
}

/// `New-ItemProperty -PropertyType X` with an X the registry does not have.
pub fn invalid_property_type(cmd: &str) -> ShellError {
    of_command(
        cmd,
        "InvalidArgument",
        "ArgumentException",
        "System.ArgumentException,Microsoft.PowerShell.Commands.NewItemPropertyCommand",
        "The value supplied is not valid, or the property is read-only. Change the value, and then try again.",
    )
}

// ------------------------------------------------------------------ native programs

/// An `iisreset` switch the lab does not support.
pub fn iisreset_switch_not_modelled(arg: &str) -> ShellError {
    of_session(
        "NotSpecified: (:) [], NativeCommandError",
        "NativeCommandError",
        format!(
            "iisreset: the lab supports [computername] /restart /noforce /timeout:N, not '{arg}'."
        ),
    )
}

/// `reg add` with arguments `reg.exe` rejects.
pub fn reg_invalid_syntax() -> ShellError {
    of_session(
        "NotSpecified: (ERROR: Invalid syntax.:String) [], RemoteException",
        "NativeCommandError",
        "ERROR: Invalid syntax.\nType \"REG ADD /?\" for usage.",
    )
}

/// `reg add` of a key outside HKCU and HKLM.
pub fn reg_invalid_key_name() -> ShellError {
    of_session(
        "NotSpecified: (ERROR: Invalid key name.:String) [], RemoteException",
        "NativeCommandError",
        "ERROR: Invalid key name.\nType \"REG ADD /?\" for usage.",
    )
}

/// A `reg` verb other than `add`.
pub fn reg_not_modelled() -> ShellError {
    of_session(
        "NotImplemented: (:) [], LabNotModeled",
        "LabNotModeled",
        "The lab models only 'reg add <key> /v <name> /t <type> /d <data> /f'.",
    )
}

/// A `defaults` call other than `defaults write <domain> <key> -type <value>`.
pub fn defaults_not_modelled() -> ShellError {
    of_session(
        "NotImplemented: (:) [], LabNotModeled",
        "LabNotModeled",
        "The lab models only 'defaults write <domain> <key> -bool|-string|-int <value>'.",
    )
}

// ------------------------------------------------------------------ expressions

/// `$true = …` and the other constants.
pub fn variable_not_writable(name: &str) -> ShellError {
    of_session(
        "WriteError: (:) [], SessionStateUnauthorizedAccessException",
        "VariableNotWritable",
        format!("Cannot overwrite variable {name} because it is read-only or constant."),
    )
}

/// A value nested deeper than [`crate::shell::value::MAX_VALUE_DEPTH`] stored in a variable.
/// `1 + "x"`: the right side does not read as a number.
pub fn not_a_number(text: &str) -> ShellError {
    of_session(
        "InvalidArgument: (:) [], RuntimeException",
        "InvalidCastFromStringToInteger",
        format!("Cannot convert value \"{text}\" to type \"System.Int32\". Error: \"Input string was not in a correct format.\""),
    )
}

/// `+` with a left side the lab's shell does not add (PowerShell adds more kinds).
pub fn addition_not_modelled(what: &str) -> ShellError {
    of_session(
        "NotImplemented: (:) [], RuntimeException",
        "LabNotModeled",
        format!(
            "The lab's shell adds numbers, text and collections; it does not model '+' on {what}."
        ),
    )
}

pub fn value_too_large() -> ShellError {
    of_session(
        "InvalidOperation: (:) [], RuntimeException",
        "LabValueTooLarge",
        format!(
            "The lab keeps at most {} values and string bytes in a session's variables, and in one value being built.",
            crate::shell::value::MAX_VALUE_WEIGHT
        ),
    )
}

pub fn value_too_deep() -> ShellError {
    of_session(
        "InvalidOperation: (:) [], RuntimeException",
        "LabValueTooDeep",
        format!(
            "The lab keeps values at most {} levels deep (arrays and hashtables inside each other).",
            crate::shell::value::MAX_VALUE_DEPTH
        ),
    )
}

/// `$x.Missing = …`.
pub fn property_not_settable(name: &str) -> ShellError {
    of_session(
        "InvalidOperation: (:) [], RuntimeException",
        "PropertyAssignmentException",
        format!("The property '{name}' cannot be found on this object. Verify that the property exists and can be set."),
    )
}

/// `"text" = …` and other targets that are not a variable or a property.
pub fn invalid_assignment_target() -> ShellError {
    of_session(
        "ParserError: (:) [], ParentContainsErrorRecordException",
        "InvalidLeftHandSide",
        "The assignment expression is not valid. The input to an assignment operator must be an object that is able to accept assignments, such as a variable or a property.",
    )
}

/// A method the value's type does not have.
pub fn method_not_found(type_name: &str, name: &str) -> ShellError {
    of_session(
        "InvalidOperation: (:) [], RuntimeException",
        "MethodNotFound",
        format!("Method invocation failed because [{type_name}] does not contain a method named '{name}'."),
    )
}

/// A method called with the wrong number of arguments.
pub fn method_argument_count(name: &str, n: usize) -> ShellError {
    of_session(
        "NotSpecified: (:) [], MethodException",
        "MethodCountCouldNotFindBest",
        format!("Cannot find an overload for \"{name}\" and the argument count: \"{n}\"."),
    )
}

/// `$null.Method()`.
pub fn method_on_null() -> ShellError {
    of_session(
        "InvalidOperation: (:) [], RuntimeException",
        "InvokeMethodOnNull",
        "You cannot call a method on a null-valued expression.",
    )
}

/// `.Add()` on an array (fixed size in .NET).
pub fn fixed_size_collection(name: &str, n: usize) -> ShellError {
    of_session(
        "NotSpecified: (:) [], MethodInvocationException",
        "NotSupportedException",
        format!("Exception calling \"{name}\" with \"{n}\" argument(s): \"Collection was of a fixed size.\""),
    )
}

/// `-match` with a pattern that does not compile.
pub fn invalid_regex(pattern: &str) -> ShellError {
    of_session(
        "InvalidOperation: (:) [], RuntimeException",
        "InvalidRegularExpression",
        format!("The regular expression pattern {pattern} is not valid."),
    )
}
