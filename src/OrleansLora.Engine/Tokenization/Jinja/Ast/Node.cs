namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary>A node of a parsed template; it knows where it came from for error messages.</summary>
internal abstract class Node(SourceLocation location)
{
    public SourceLocation Location { get; } = location;
}
