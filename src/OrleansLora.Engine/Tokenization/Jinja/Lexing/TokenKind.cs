namespace OrleansLora.Engine.Tokenization.Jinja.Lexing;

internal enum TokenKind
{
    /// <summary>Template text outside tags, whitespace control already applied.</summary>
    Data,
    VariableBegin,
    VariableEnd,
    BlockBegin,
    BlockEnd,
    Name,
    String,
    Integer,
    Float,
    Operator,
    End,
}
