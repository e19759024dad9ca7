namespace OrleansLora.Grains.Deadlines;

/// <summary>
/// Configuration section <c>OrleansLora:Deadlines</c>: how long each wait on the serving path may last before
/// the request ends with <see cref="Errors.DeadlineExceededException"/> (HTTP 504) instead of hanging.
/// Validated at start-up.
/// </summary>
public sealed class DeadlineOptions
{
    public const string SectionName = "OrleansLora:Deadlines";

    private static readonly TimeSpan Longest = TimeSpan.FromHours(1);

    /// <summary>Placing an adapter on a device: validation, pin, disk read and slot copy (a pin may wait for a busy slot to drain).</summary>
    public TimeSpan Placement { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>From the engine taking a request to its first token: waiting for a batch row and an adapter slot, then prefill.</summary>
    public TimeSpan FirstToken { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Between two tokens of a running generation (one engine step, normally milliseconds to a few seconds).</summary>
    public TimeSpan NextToken { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan For(DeadlinePhase phase) => phase switch
    {
        DeadlinePhase.Placement => Placement,
        DeadlinePhase.FirstToken => FirstToken,
        _ => NextToken,
    };

    /// <summary>The configuration key of <paramref name="phase"/>'s deadline, for error messages.</summary>
    public static string SettingOf(DeadlinePhase phase) => $"{SectionName}:{phase}";

    /// <summary>The phase as errors and metrics spell it.</summary>
    public static string WireName(DeadlinePhase phase) => phase switch
    {
        DeadlinePhase.Placement => "placement",
        DeadlinePhase.FirstToken => "first_token",
        _ => "next_token",
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first deadline outside (0, 1 h].</summary>
    public void Validate()
    {
        foreach (var phase in Enum.GetValues<DeadlinePhase>())
        {
            var value = For(phase);
            if (value <= TimeSpan.Zero || value > Longest)
                throw new ArgumentException($"{SettingOf(phase)} must be in (0, 1 h], got {value}.", phase.ToString());
        }
    }
}
