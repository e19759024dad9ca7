namespace OrleansLora.Engine.Tokenization.Jinja.Runtime;

/// <summary>A value a template can call: a global function, a macro or a bound method.</summary>
internal abstract class JinjaCallable
{
    public abstract string Name { get; }

    public abstract object? Invoke(RenderContext context, Arguments arguments);

    public override string ToString() => $"<function {Name}>";
}
