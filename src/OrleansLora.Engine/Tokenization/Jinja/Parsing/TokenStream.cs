using OrleansLora.Engine.Tokenization.Jinja.Lexing;

namespace OrleansLora.Engine.Tokenization.Jinja.Parsing;

/// <summary>A cursor over the lexer's tokens.</summary>
internal sealed class TokenStream(List<Token> tokens)
{
    private int _pos;

    public Token Current => tokens[_pos];

    public Token Peek(int ahead = 1) => tokens[Math.Min(_pos + ahead, tokens.Count - 1)];

    public Token Next()
    {
        var token = tokens[_pos];
        if (_pos < tokens.Count - 1)
            _pos++;
        return token;
    }

    public bool SkipIf(TokenKind kind, string text)
    {
        if (!Current.Is(kind, text))
            return false;
        Next();
        return true;
    }

    public bool SkipOperator(string op) => SkipIf(TokenKind.Operator, op);

    public bool SkipName(string name) => SkipIf(TokenKind.Name, name);

    public Token Expect(TokenKind kind, string? text, string construct)
    {
        var token = Current;
        if (token.Kind != kind || (text is not null && token.Text != text))
        {
            string wanted = text is not null ? $"'{text}'" : kind switch
            {
                TokenKind.Name => "a name",
                TokenKind.BlockEnd => "'%}'",
                TokenKind.VariableEnd => "'}}'",
                _ => kind.ToString(),
            };
            throw new TemplateSyntaxException($"expected {wanted}, found {token}", construct, token.Location);
        }
        return Next();
    }
}
