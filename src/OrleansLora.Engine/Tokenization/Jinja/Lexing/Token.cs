namespace OrleansLora.Engine.Tokenization.Jinja.Lexing;

/// <summary>One lexical token: its text (or decoded value for strings), a number's value, and where it starts.</summary>
internal readonly record struct Token(TokenKind Kind, string Text, SourceLocation Location, object? Number = null)
{
    public bool Is(TokenKind kind, string text) => Kind == kind && Text == text;

    public bool IsOperator(string op) => Kind == TokenKind.Operator && Text == op;

    public bool IsName(string name) => Kind == TokenKind.Name && Text == name;

    public override string ToString() => Kind switch
    {
        TokenKind.End => "end of template",
        TokenKind.Data => "template text",
        TokenKind.VariableBegin => "'{{'",
        TokenKind.VariableEnd => "'}}'",
        TokenKind.BlockBegin => "'{%'",
        TokenKind.BlockEnd => "'%}'",
        TokenKind.String => "a string",
        _ => $"'{Text}'",
    };
}
