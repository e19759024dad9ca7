namespace OrleansLora.Engine.Tokenization.Jinja;

/// <summary>A 1-based line and column in a template's source, for error messages.</summary>
public readonly record struct SourceLocation(int Line, int Column)
{
    public override string ToString() => $"line {Line}, column {Column}";
}
