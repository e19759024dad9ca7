using OrleansLora.Engine.Tokenization.Jinja.Ast;
using OrleansLora.Engine.Tokenization.Jinja.Lexing;

namespace OrleansLora.Engine.Tokenization.Jinja.Parsing;

/// <summary>
/// Builds the statement tree from tokens: text, <c>{{ }}</c>, and the tags if/elif/else, for (with
/// else, loop filters, unpacking), set (plain, namespace attribute, block), macro, filter,
/// generation, break and continue. Tags this engine does not implement fail here, naming the tag.
/// Expressions are parsed in <c>Parser.Expressions.cs</c>.
/// </summary>
internal sealed partial class Parser
{
    private const int MaxNesting = 96;

    private static readonly HashSet<string> Unsupported = ["include", "import", "from", "extends", "block", "call", "with", "autoescape", "do", "trans"];

    private readonly TokenStream _tokens;
    private int _loopDepth;
    private int _nesting;

    private Parser(List<Token> tokens) => _tokens = new TokenStream(tokens);

    public static IReadOnlyList<Statement> Parse(List<Token> tokens)
    {
        var parser = new Parser(tokens);
        var (body, _) = parser.ParseBody([]);
        return body;
    }

    /// <summary>Statements up to one of <paramref name="endTags"/> (whose name is consumed) or the end of the template.</summary>
    private (List<Statement> Body, string EndTag) ParseBody(string[] endTags)
    {
        Enter(_tokens.Current);
        var body = new List<Statement>();
        while (true)
        {
            var token = _tokens.Next();
            switch (token.Kind)
            {
                case TokenKind.Data:
                    body.Add(new TextStatement(token.Location, token.Text));
                    break;
                case TokenKind.VariableBegin:
                    var value = ParseTuple(withCondition: true);
                    _tokens.Expect(TokenKind.VariableEnd, null, "{{");
                    body.Add(new OutputStatement(token.Location, value));
                    break;
                case TokenKind.BlockBegin:
                    var name = _tokens.Expect(TokenKind.Name, null, "{%");
                    if (Array.IndexOf(endTags, name.Text) >= 0)
                    {
                        _nesting--;
                        return (body, name.Text);
                    }
                    body.Add(ParseStatement(token, name));
                    break;
                case TokenKind.End:
                    if (endTags.Length > 0)
                        throw new TemplateSyntaxException($"unexpected end of template, expected '{string.Join("' or '", endTags)}'", endTags[^1], token.Location);
                    _nesting--;
                    return (body, "");
                default:
                    throw new TemplateSyntaxException($"unexpected {token}", token.Text, token.Location);
            }
        }
    }

    private Statement ParseStatement(Token start, Token name)
    {
        var at = start.Location;
        switch (name.Text)
        {
            case "if":
                return ParseIf(at);
            case "for":
                return ParseFor(at);
            case "set":
                return ParseSet(at);
            case "macro":
                return ParseMacro(at);
            case "filter":
                var filters = ParseFilterChain(requireOne: true);
                _tokens.Expect(TokenKind.BlockEnd, null, "filter");
                return new FilterBlockStatement(at, filters, ParseBody(["endfilter"]).Body.WithBlockEnd(_tokens, "endfilter"));
            case "generation":
                _tokens.Expect(TokenKind.BlockEnd, null, "generation");
                return new GenerationStatement(at, ParseBody(["endgeneration"]).Body.WithBlockEnd(_tokens, "endgeneration"));
            case "break" or "continue":
                if (_loopDepth == 0)
                    throw new TemplateSyntaxException($"'{name.Text}' outside of a loop", name.Text, name.Location);
                _tokens.Expect(TokenKind.BlockEnd, null, name.Text);
                return new LoopControlStatement(at, name.Text == "break" ? Flow.Break : Flow.Continue);
            default:
                string message = Unsupported.Contains(name.Text)
                    ? $"the '{name.Text}' tag is not supported in chat templates by this engine"
                    : $"encountered unknown tag '{name.Text}'";
                throw new TemplateSyntaxException(message, name.Text, name.Location);
        }
    }

    private IfStatement ParseIf(SourceLocation at)
    {
        var branches = new List<(Expression, IReadOnlyList<Statement>)>();
        List<Statement>? otherwise = null;
        var condition = ParseTuple(withCondition: true);
        while (true)
        {
            _tokens.Expect(TokenKind.BlockEnd, null, "if");
            var (body, end) = ParseBody(["elif", "else", "endif"]);
            branches.Add((condition, body));
            if (end == "elif")
            {
                condition = ParseTuple(withCondition: true);
                continue;
            }
            if (end == "else")
            {
                _tokens.Expect(TokenKind.BlockEnd, null, "else");
                otherwise = ParseBody(["endif"]).Body;
            }
            _tokens.Expect(TokenKind.BlockEnd, null, "endif");
            return new IfStatement(at, branches, otherwise);
        }
    }

    private ForStatement ParseFor(SourceLocation at)
    {
        var target = ParseAssignTarget(allowAttribute: false, "for");
        _tokens.Expect(TokenKind.Name, "in", "for");
        var iterable = ParseTuple(withCondition: false);
        Expression? condition = _tokens.SkipName("if") ? ParseExpression(withCondition: true) : null;
        if (_tokens.Current.IsName("recursive"))
            throw new TemplateSyntaxException("recursive loops are not supported by this engine", "for", _tokens.Current.Location);
        _tokens.Expect(TokenKind.BlockEnd, null, "for");
        _loopDepth++;
        var (body, end) = ParseBody(["endfor", "else"]);
        _loopDepth--;
        List<Statement>? otherwise = null;
        if (end == "else")
        {
            _tokens.Expect(TokenKind.BlockEnd, null, "else");
            otherwise = ParseBody(["endfor"]).Body;
        }
        _tokens.Expect(TokenKind.BlockEnd, null, "endfor");
        return new ForStatement(at, target, iterable, condition, body, otherwise);
    }

    private Statement ParseSet(SourceLocation at)
    {
        var target = ParseAssignTarget(allowAttribute: true, "set");
        if (_tokens.SkipOperator("="))
        {
            var value = ParseTuple(withCondition: true);
            _tokens.Expect(TokenKind.BlockEnd, null, "set");
            return new SetStatement(at, target, value);
        }
        var filters = ParseFilterChain(requireOne: false);
        _tokens.Expect(TokenKind.BlockEnd, null, "set");
        var body = ParseBody(["endset"]).Body.WithBlockEnd(_tokens, "endset");
        return new SetBlockStatement(at, target, body, filters);
    }

    private MacroStatement ParseMacro(SourceLocation at)
    {
        var name = _tokens.Expect(TokenKind.Name, null, "macro").Text;
        _tokens.Expect(TokenKind.Operator, "(", "macro");
        var parameters = new List<(string, Expression?)>();
        while (!_tokens.SkipOperator(")"))
        {
            if (parameters.Count > 0)
                _tokens.Expect(TokenKind.Operator, ",", "macro");
            if (_tokens.SkipOperator(")"))
                break;
            var parameter = _tokens.Expect(TokenKind.Name, null, "macro").Text;
            parameters.Add((parameter, _tokens.SkipOperator("=") ? ParseExpression(withCondition: true) : null));
        }
        _tokens.Expect(TokenKind.BlockEnd, null, "macro");
        int loops = _loopDepth;
        _loopDepth = 0; // break inside a macro does not reach an enclosing loop
        var body = ParseBody(["endmacro"]).Body;
        _loopDepth = loops;
        if (_tokens.Current.Kind == TokenKind.Name)
            _tokens.Next(); // {% endmacro name %}
        _tokens.Expect(TokenKind.BlockEnd, null, "endmacro");
        return new MacroStatement(at, name, parameters, body);
    }

    /// <summary>A name, names to unpack (<c>a, b</c>), or (for set) <c>namespace.attribute</c>.</summary>
    private AssignTarget ParseAssignTarget(bool allowAttribute, string construct)
    {
        var first = _tokens.Expect(TokenKind.Name, null, construct);
        if (allowAttribute && _tokens.SkipOperator("."))
        {
            var attribute = _tokens.Expect(TokenKind.Name, null, construct);
            return new NamespaceTarget(first.Location, first.Text, attribute.Text);
        }
        if (!_tokens.Current.IsOperator(","))
            return new NameTarget(first.Location, first.Text);
        var names = new List<NameTarget> { new(first.Location, first.Text) };
        while (_tokens.SkipOperator(","))
        {
            if (_tokens.Current.Kind != TokenKind.Name || _tokens.Current.IsName("in"))
                break;
            var next = _tokens.Next();
            names.Add(new NameTarget(next.Location, next.Text));
        }
        return new UnpackTarget(first.Location, names);
    }

    private void Enter(Token at)
    {
        if (++_nesting > MaxNesting)
            throw new TemplateSyntaxException($"template nested deeper than {MaxNesting} levels", "nesting", at.Location);
    }
}
