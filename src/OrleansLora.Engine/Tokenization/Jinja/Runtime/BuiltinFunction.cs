namespace OrleansLora.Engine.Tokenization.Jinja.Runtime;

/// <summary>A callable implemented in C# (global functions and the bound methods of strings, dicts and lists).</summary>
internal sealed class BuiltinFunction(string name, Func<RenderContext, Arguments, object?> body) : JinjaCallable
{
    public override string Name => name;

    public override object? Invoke(RenderContext context, Arguments arguments) => body(context, arguments);
}
