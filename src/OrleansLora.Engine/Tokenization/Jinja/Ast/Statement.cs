using System.Runtime.CompilerServices;
using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary>A part of the template that writes output or changes variables.</summary>
internal abstract class Statement(SourceLocation location) : Node(location)
{
    public abstract Flow Execute(RenderContext context);

    /// <summary>Runs statements in order until one breaks or continues a loop.</summary>
    public static Flow Run(IReadOnlyList<Statement> body, RenderContext context)
    {
        // Nesting and macro depth are bounded, but stacks differ: stop cleanly before one runs out.
        RuntimeHelpers.EnsureSufficientExecutionStack();
        for (int i = 0; i < body.Count; i++)
        {
            var statement = body[i];
            context.Location = statement.Location;
            context.Step();
            var flow = statement.Execute(context);
            if (flow != Flow.Normal)
                return flow;
        }
        return Flow.Normal;
    }
}
