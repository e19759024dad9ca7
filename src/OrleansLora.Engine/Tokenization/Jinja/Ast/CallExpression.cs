using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>callee(args, name=value)</c>: a global function, macro or method.</summary>
internal sealed class CallExpression(SourceLocation location, Expression callee, CallArguments arguments) : Expression(location)
{
    public override object? Evaluate(RenderContext context)
    {
        var function = callee.Evaluate(context);
        var args = arguments.Evaluate(context);
        context.Location = Location;
        return function switch
        {
            JinjaCallable callable => callable.Invoke(context, args),
            Undefined u => throw u.Error(),
            _ => throw new TemplateRuntimeException($"{PyTypes.Name(function)} object is not callable", "call", Location),
        };
    }
}
