using OrleansLora.Engine.Tokenization.Jinja.Library;
using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary>One <c>| name(args)</c>, its filter resolved when the template is parsed.</summary>
internal sealed class FilterCall(SourceLocation location, string name, Filters.Filter filter, CallArguments arguments) : Node(location)
{
    public string Name => name;

    public object? Apply(RenderContext context, object? value)
    {
        var args = arguments.Evaluate(context);
        context.Location = Location;
        return filter(context, value, args);
    }
}
