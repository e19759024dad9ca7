using System.Text;

namespace OrleansLora.Engine.Tokenization.Jinja.Runtime;

/// <summary>
/// The state of one render: output, the scope chain, the budgets of <see cref="JinjaLimits"/> and
/// the location of the construct being evaluated (for error messages). One per render, one thread.
/// </summary>
internal sealed class RenderContext
{
    private readonly JinjaLimits _limits;
    private StringBuilder _output;
    private long _steps;
    private int _callDepth;

    public RenderContext(Scope globals, JinjaLimits limits, TimeProvider clock)
    {
        _limits = limits;
        Clock = clock;
        Scope = globals;
        _output = new StringBuilder(1024);
    }

    public Scope Scope { get; set; }

    public TimeProvider Clock { get; }

    public JinjaLimits Limits => _limits;

    /// <summary>The construct being evaluated, kept current by statements and the expressions that can fail.</summary>
    public SourceLocation Location { get; set; }

    public string Output => _output.ToString();

    public void Write(string text)
    {
        if (_output.Length + (long)text.Length > _limits.MaxOutputChars)
            throw new TemplateRuntimeException($"output exceeds {_limits.MaxOutputChars} characters", "output", Location);
        _output.Append(text);
    }

    /// <summary>Runs <paramref name="body"/> with its output captured (set blocks, macro calls, filter blocks).</summary>
    public string Capture(Action body)
    {
        var saved = _output;
        _output = new StringBuilder();
        try
        {
            body();
            return _output.ToString();
        }
        finally
        {
            _output = saved;
        }
    }

    /// <summary>Counts one unit of work (a statement, an iteration, an item a filter produces).</summary>
    public void Step(long units = 1)
    {
        _steps += units;
        if (_steps > _limits.MaxSteps)
            throw new TemplateRuntimeException($"render exceeds {_limits.MaxSteps} steps", "loop", Location);
    }

    /// <summary>Refuses a string or list of <paramref name="size"/> items before it is built.</summary>
    public void CheckSize(long size, string construct)
    {
        if (size > _limits.MaxOutputChars)
            throw new TemplateRuntimeException($"a value of {size} items exceeds the limit of {_limits.MaxOutputChars}", construct, Location);
    }

    public void EnterCall(string name)
    {
        if (++_callDepth > _limits.MaxCallDepth)
            throw new TemplateRuntimeException($"macro calls nested deeper than {_limits.MaxCallDepth} ('{name}')", "macro", Location);
    }

    public void ExitCall() => _callDepth--;
}
