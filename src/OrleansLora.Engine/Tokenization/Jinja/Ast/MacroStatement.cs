using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>{% macro name(a, b='default') %}…{% endmacro %}</c>: defines a callable in the current scope.</summary>
internal sealed class MacroStatement(SourceLocation location, string name, IReadOnlyList<(string Name, Expression? Default)> parameters, IReadOnlyList<Statement> body)
    : Statement(location)
{
    public override Flow Execute(RenderContext context)
    {
        context.Scope.Set(name, new Macro(this, context.Scope));
        return Flow.Normal;
    }

    /// <summary>A macro bound to the scope it was defined in; names it does not bind resolve there at call time.</summary>
    private sealed class Macro(MacroStatement definition, Scope closure) : JinjaCallable
    {
        public override string Name => definition.Name;

        public override object? Invoke(RenderContext context, Arguments arguments)
        {
            var parameters = definition.Parameters;
            if (arguments.Count > parameters.Count)
                throw new TemplateRuntimeException($"macro '{Name}' takes not more than {parameters.Count} argument(s)", "macro", definition.Location);
            var scope = new Scope(closure);
            var caller = context.Scope;
            context.EnterCall(Name);
            context.Scope = scope;
            try
            {
                for (int i = 0; i < parameters.Count; i++)
                {
                    var (parameter, fallback) = parameters[i];
                    object? value = i < arguments.Count ? arguments.Positional[i]
                        : arguments.Has(int.MaxValue, parameter) ? arguments.Get(int.MaxValue, parameter)
                        : fallback is not null ? fallback.Evaluate(context)
                        : Undefined.Named(parameter);
                    scope.Set(parameter, value);
                }
                foreach (var (key, _) in arguments.Keywords)
                {
                    if (!parameters.Any(p => p.Name == key))
                        throw new TemplateRuntimeException($"macro '{Name}' takes no keyword argument '{key}'", "macro", definition.Location);
                }
                return context.Capture(() => Run(definition.Body, context));
            }
            finally
            {
                context.Scope = caller;
                context.ExitCall();
            }
        }
    }

    public string Name => name;

    public IReadOnlyList<(string Name, Expression? Default)> Parameters => parameters;

    public IReadOnlyList<Statement> Body => body;
}
