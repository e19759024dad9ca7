using System.Diagnostics;
using System.Text.RegularExpressions;
using OrleansLora.Engine.Models;

namespace OrleansLora.Engine.Adapters;

/// <summary>
/// A <c>target_modules</c> regular expression from an adapter config (PEFT full-matches it against
/// each module's path). The expression comes from a file anyone may have written, so it is matched
/// in linear time (<see cref="RegexOptions.NonBacktracking"/>) where .NET can; an expression that
/// needs backtracking (lookarounds, backreferences) or whose automaton would be too large runs with
/// a time budget instead. Too long, invalid, or over budget: a <see cref="ModelFormatException"/>
/// naming target_modules.
/// </summary>
internal static class TargetPattern
{
    /// <summary>Longest expression accepted; PEFT's are tens of characters.</summary>
    public const int MaxLength = 4096;

    /// <summary>Time for building the expression and matching every module path of the base model.</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(1);

    /// <summary>Adds every (layer, module) whose path <paramref name="pattern"/> fully matches.</summary>
    public static void AddMatches(string file, string pattern, int layers, HashSet<(int, string)> expected)
    {
        if (pattern.Length > MaxLength)
            throw new ModelFormatException(file, $"target_modules is a regular expression of {pattern.Length} characters; at most {MaxLength} are accepted. List the module names instead (e.g. [\"q_proj\", \"v_proj\"]).");
        var clock = Stopwatch.StartNew();
        var regex = Build(file, pattern);
        try
        {
            for (int layer = 0; layer < layers; layer++)
            {
                foreach (string module in LoraTargetModules.All)
                {
                    if (regex.IsMatch(LoraTargetModules.ModulePath(layer, module)))
                        expected.Add((layer, module));
                }
                if (clock.Elapsed > Budget)
                    throw new RegexMatchTimeoutException(pattern, LoraTargetModules.ModulePath(layer, LoraTargetModules.All[0]), Budget);
            }
        }
        catch (RegexMatchTimeoutException ex)
        {
            throw new ModelFormatException(file, $"target_modules {Quote(pattern)} took more than {Budget.TotalSeconds:0.#} s to match the base model's module names (an expression that backtracks catastrophically); use a list of module names or a simpler expression.", ex);
        }
    }

    /// <summary>The expression for messages, shortened: it may be kilobytes long.</summary>
    public static string Quote(string pattern) => pattern.Length <= 120 ? $"\"{pattern}\"" : $"\"{pattern[..120]}...\" ({pattern.Length} characters)";

    private static Regex Build(string file, string pattern)
    {
        // \A and \z: a full match (Python's re.fullmatch, which PEFT uses); "$" would also match before a final newline.
        string anchored = $@"\A(?:{pattern})\z";
        try
        {
            return new Regex(anchored, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, Budget);
        }
        catch (NotSupportedException)
        {
            // Constructs NonBacktracking cannot run, or an automaton it refuses to build as too large.
        }
        catch (ArgumentException ex)
        {
            throw new ModelFormatException(file, $"target_modules {Quote(pattern)} is not a valid regular expression: {ex.Message}", ex);
        }
        try
        {
            return new Regex(anchored, RegexOptions.CultureInvariant, Budget);
        }
        catch (ArgumentException ex)
        {
            throw new ModelFormatException(file, $"target_modules {Quote(pattern)} is not a valid regular expression: {ex.Message}", ex);
        }
    }
}
