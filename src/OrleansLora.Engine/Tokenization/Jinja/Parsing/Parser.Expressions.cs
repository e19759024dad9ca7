using OrleansLora.Engine.Tokenization.Jinja.Ast;
using OrleansLora.Engine.Tokenization.Jinja.Lexing;
using OrleansLora.Engine.Tokenization.Jinja.Library;

namespace OrleansLora.Engine.Tokenization.Jinja.Parsing;

/// <summary>
/// Expressions, with jinja2's precedence from loosest to tightest: a if b else c; or; and; not;
/// comparisons (==, !=, &lt;, in, not in; chained); + -; ~; * / // %; ** (left-associative, as in
/// jinja2); unary - +; then a primary with .attribute, [index or slice], (call), | filter and is test.
/// </summary>
internal sealed partial class Parser
{
    /// <summary>
    /// Parses a left-nested chain (a + b + c, x.y.z, v | f | g), each link counted as one level of
    /// nesting while it is parsed (evaluation recurses as deep as the chain is long), the count
    /// restored after.
    /// </summary>
    private Expression Chain(Func<Expression> parse)
    {
        int nesting = _nesting;
        var node = parse();
        _nesting = nesting;
        return node;
    }

    private Expression ParseTuple(bool withCondition)
    {
        var at = _tokens.Current.Location;
        var first = ParseExpression(withCondition);
        if (!_tokens.Current.IsOperator(","))
            return first;
        var items = new List<Expression> { first };
        while (_tokens.SkipOperator(","))
        {
            if (IsTupleEnd())
                break;
            items.Add(ParseExpression(withCondition));
        }
        return new ListExpression(at, items, tuple: true);
    }

    private bool IsTupleEnd()
    {
        var t = _tokens.Current;
        return t.Kind is TokenKind.VariableEnd or TokenKind.BlockEnd or TokenKind.End || t.IsOperator(")") || (t.Kind == TokenKind.Name && t.Text is "if" or "in");
    }

    private Expression ParseExpression(bool withCondition)
    {
        Enter(_tokens.Current);
        try
        {
            return withCondition ? ParseConditional() : ParseOr();
        }
        finally
        {
            _nesting--;
        }
    }

    private Expression ParseConditional() => Chain(() =>
    {
        var at = _tokens.Current.Location;
        var value = ParseOr();
        while (_tokens.Current.IsName("if"))
        {
            Enter(_tokens.Current);
            _tokens.Next();
            var condition = ParseOr();
            var otherwise = _tokens.SkipName("else") ? ParseConditional() : null;
            value = new ConditionalExpression(at, condition, value, otherwise);
        }
        return value;
    });

    private Expression ParseOr() => ParseLogical("or", ParseAnd);

    private Expression ParseAnd() => ParseLogical("and", ParseNot);

    private Expression ParseLogical(string keyword, Func<Expression> operand) => Chain(() =>
    {
        var left = operand();
        while (_tokens.Current.IsName(keyword))
        {
            Enter(_tokens.Current);
            var at = _tokens.Next().Location;
            left = new LogicalExpression(at, isAnd: keyword == "and", left, operand());
        }
        return left;
    });

    private Expression ParseNot()
    {
        if (_tokens.Current.IsName("not"))
        {
            var at = _tokens.Next().Location;
            Enter(_tokens.Current);
            var operand = ParseNot();
            _nesting--;
            return new NotExpression(at, operand);
        }
        return ParseCompare();
    }

    private Expression ParseCompare()
    {
        var at = _tokens.Current.Location;
        var first = ParseMath1();
        List<(string, Expression)>? rest = null;
        while (true)
        {
            var t = _tokens.Current;
            string? op = null;
            if (t.Kind == TokenKind.Operator && t.Text is "==" or "!=" or "<" or ">" or "<=" or ">=")
            {
                op = t.Text;
                _tokens.Next();
            }
            else if (t.IsName("in"))
            {
                op = "in";
                _tokens.Next();
            }
            else if (t.IsName("not") && _tokens.Peek().IsName("in"))
            {
                op = "notin";
                _tokens.Next();
                _tokens.Next();
            }
            if (op is null)
                break;
            (rest ??= []).Add((op, ParseMath1()));
        }
        return rest is null ? first : new CompareExpression(at, first, rest);
    }

    private Expression ParseMath1() => Chain(() =>
    {
        var left = ParseConcat();
        while (_tokens.Current.Kind == TokenKind.Operator && _tokens.Current.Text is "+" or "-")
        {
            Enter(_tokens.Current);
            var op = _tokens.Next();
            left = new BinaryExpression(op.Location, op.Text, left, ParseConcat());
        }
        return left;
    });

    private Expression ParseConcat()
    {
        var at = _tokens.Current.Location;
        var first = ParseMath2();
        if (!_tokens.Current.IsOperator("~"))
            return first;
        var operands = new List<Expression> { first };
        while (_tokens.SkipOperator("~"))
            operands.Add(ParseMath2());
        return new ConcatExpression(at, operands);
    }

    private Expression ParseMath2() => Chain(() =>
    {
        var left = ParsePower();
        while (_tokens.Current.Kind == TokenKind.Operator && _tokens.Current.Text is "*" or "/" or "//" or "%")
        {
            Enter(_tokens.Current);
            var op = _tokens.Next();
            left = new BinaryExpression(op.Location, op.Text, left, ParsePower());
        }
        return left;
    });

    private Expression ParsePower() => Chain(() =>
    {
        var left = ParseUnary(withFilter: true);
        while (_tokens.Current.IsOperator("**"))
        {
            Enter(_tokens.Current);
            var op = _tokens.Next();
            left = new BinaryExpression(op.Location, "**", left, ParseUnary(withFilter: true));
        }
        return left;
    });

    private Expression ParseUnary(bool withFilter)
    {
        var t = _tokens.Current;
        Expression node;
        if (t.IsOperator("-") || t.IsOperator("+"))
        {
            _tokens.Next();
            Enter(t);
            node = new NegateExpression(t.Location, ParseUnary(withFilter: false), negate: t.Text == "-");
            _nesting--;
        }
        else
        {
            node = ParsePostfix(ParsePrimary());
        }
        return withFilter ? ParseFilterAndTest(node) : node;
    }

    private Expression ParsePrimary()
    {
        var t = _tokens.Next();
        switch (t.Kind)
        {
            case TokenKind.Name:
                return t.Text switch
                {
                    "true" or "True" => new LiteralExpression(t.Location, true),
                    "false" or "False" => new LiteralExpression(t.Location, false),
                    "none" or "None" => new LiteralExpression(t.Location, null),
                    _ => new NameExpression(t.Location, t.Text),
                };
            case TokenKind.String:
                string text = t.Text;
                while (_tokens.Current.Kind == TokenKind.String)
                    text += _tokens.Next().Text; // adjacent literals concatenate
                return new LiteralExpression(t.Location, text);
            case TokenKind.Integer or TokenKind.Float:
                return new LiteralExpression(t.Location, t.Number);
            case TokenKind.Operator when t.Text == "(":
                if (_tokens.SkipOperator(")"))
                    return new ListExpression(t.Location, [], tuple: true);
                var inner = ParseTuple(withCondition: true);
                _tokens.Expect(TokenKind.Operator, ")", "(");
                return inner;
            case TokenKind.Operator when t.Text == "[":
                var items = new List<Expression>();
                while (!_tokens.SkipOperator("]"))
                {
                    if (items.Count > 0)
                        _tokens.Expect(TokenKind.Operator, ",", "list");
                    if (_tokens.SkipOperator("]"))
                        break;
                    items.Add(ParseExpression(withCondition: true));
                }
                return new ListExpression(t.Location, items, tuple: false);
            case TokenKind.Operator when t.Text == "{":
                var entries = new List<(Expression, Expression)>();
                while (!_tokens.SkipOperator("}"))
                {
                    if (entries.Count > 0)
                        _tokens.Expect(TokenKind.Operator, ",", "dict");
                    if (_tokens.SkipOperator("}"))
                        break;
                    var key = ParseExpression(withCondition: true);
                    _tokens.Expect(TokenKind.Operator, ":", "dict");
                    entries.Add((key, ParseExpression(withCondition: true)));
                }
                return new DictExpression(t.Location, entries);
            default:
                throw new TemplateSyntaxException($"unexpected {t}", t.Text, t.Location);
        }
    }

    // Each .attribute, [index] and (call) wraps the node: evaluation recurses that deep.
    private Expression ParsePostfix(Expression node) => Chain(() => ParsePostfixChain(node));

    private Expression ParsePostfixChain(Expression node)
    {
        while (true)
        {
            var t = _tokens.Current;
            if (t.IsOperator(".") || t.IsOperator("[") || t.IsOperator("("))
                Enter(t);
            if (t.IsOperator("."))
            {
                _tokens.Next();
                var name = _tokens.Next();
                node = name.Kind switch
                {
                    TokenKind.Name => new AttributeExpression(name.Location, node, name.Text),
                    TokenKind.Integer => new IndexExpression(name.Location, node, new LiteralExpression(name.Location, name.Number)),
                    _ => throw new TemplateSyntaxException($"expected an attribute name after '.', found {name}", ".", name.Location),
                };
            }
            else if (t.IsOperator("["))
            {
                _tokens.Next();
                node = ParseSubscript(t.Location, node);
            }
            else if (t.IsOperator("("))
            {
                _tokens.Next();
                node = new CallExpression(t.Location, node, ParseCallArguments("call"));
            }
            else
            {
                return node;
            }
        }
    }

    private Expression ParseSubscript(SourceLocation at, Expression target)
    {
        Expression? start = null, stop = null, step = null;
        if (!_tokens.Current.IsOperator(":"))
        {
            start = ParseExpression(withCondition: true);
            if (_tokens.SkipOperator("]"))
                return new IndexExpression(at, target, start);
        }
        _tokens.Expect(TokenKind.Operator, ":", "slice");
        if (!_tokens.Current.IsOperator("]") && !_tokens.Current.IsOperator(":"))
            stop = ParseExpression(withCondition: true);
        if (_tokens.SkipOperator(":") && !_tokens.Current.IsOperator("]"))
            step = ParseExpression(withCondition: true);
        _tokens.Expect(TokenKind.Operator, "]", "slice");
        return new SliceExpression(at, target, start, stop, step);
    }

    /// <summary>Arguments after an opening parenthesis, through the closing one.</summary>
    private CallArguments ParseCallArguments(string construct)
    {
        var positional = new List<Expression>();
        var keywords = new List<KeyValuePair<string, Expression>>();
        while (!_tokens.SkipOperator(")"))
        {
            if (positional.Count + keywords.Count > 0)
            {
                _tokens.Expect(TokenKind.Operator, ",", construct);
                if (_tokens.SkipOperator(")"))
                    break;
            }
            if (_tokens.Current.IsOperator("*") || _tokens.Current.IsOperator("**"))
                throw new TemplateSyntaxException("*args and **kwargs in calls are not supported by this engine", construct, _tokens.Current.Location);
            if (_tokens.Current.Kind == TokenKind.Name && _tokens.Peek().IsOperator("="))
            {
                string name = _tokens.Next().Text;
                _tokens.Next();
                keywords.Add(new(name, ParseExpression(withCondition: true)));
            }
            else
            {
                if (keywords.Count > 0)
                    throw new TemplateSyntaxException("positional argument after keyword argument", construct, _tokens.Current.Location);
                positional.Add(ParseExpression(withCondition: true));
            }
        }
        return positional.Count + keywords.Count == 0 ? CallArguments.Empty : new CallArguments(positional, keywords);
    }

    private Expression ParseFilterAndTest(Expression node) => Chain(() => ParseFilterAndTestChain(node));

    private Expression ParseFilterAndTestChain(Expression node)
    {
        while (true)
        {
            var t = _tokens.Current;
            if (t.IsOperator("|") || t.IsName("is") || t.IsOperator("("))
                Enter(t);
            if (t.IsOperator("|"))
            {
                _tokens.Next();
                node = new FilterExpression(t.Location, node, ParseFilter());
            }
            else if (t.IsName("is"))
            {
                _tokens.Next();
                node = ParseTest(t.Location, node);
            }
            else if (t.IsOperator("("))
            {
                _tokens.Next();
                node = new CallExpression(t.Location, node, ParseCallArguments("call"));
            }
            else
            {
                return node;
            }
        }
    }

    private FilterCall ParseFilter()
    {
        var name = _tokens.Expect(TokenKind.Name, null, "filter");
        var filter = Filters.Find(name.Text)
            ?? throw new TemplateSyntaxException($"no filter named '{name.Text}'", name.Text, name.Location);
        var arguments = _tokens.SkipOperator("(") ? ParseCallArguments(name.Text) : CallArguments.Empty;
        return new FilterCall(name.Location, name.Text, filter, arguments);
    }

    /// <summary><c>| a | b(x)</c> after <c>{% filter</c> or <c>{% set name</c>.</summary>
    private List<FilterCall> ParseFilterChain(bool requireOne)
    {
        var filters = new List<FilterCall>();
        if (requireOne)
            filters.Add(ParseFilter());
        while (_tokens.SkipOperator("|"))
            filters.Add(ParseFilter());
        return filters;
    }

    private Expression ParseTest(SourceLocation at, Expression node)
    {
        bool negated = _tokens.SkipName("not");
        var name = _tokens.Expect(TokenKind.Name, null, "is");
        var test = Tests.Find(name.Text)
            ?? throw new TemplateSyntaxException($"no test named '{name.Text}'", name.Text, name.Location);
        CallArguments arguments = CallArguments.Empty;
        var t = _tokens.Current;
        if (_tokens.SkipOperator("("))
        {
            arguments = ParseCallArguments(name.Text);
        }
        else if ((t.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float || t.IsOperator("[") || t.IsOperator("{"))
            && !(t.Kind == TokenKind.Name && t.Text is "else" or "or" or "and" or "is" or "if" or "in" or "not"))
        {
            // "x is divisibleby 3", "x is sameas false": one argument without parentheses.
            arguments = new CallArguments([ParsePostfix(ParsePrimary())], []);
        }
        return new TestExpression(at, node, name.Text, test, arguments, negated);
    }
}
