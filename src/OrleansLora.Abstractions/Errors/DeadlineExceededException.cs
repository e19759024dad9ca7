namespace OrleansLora.Errors;

/// <summary>
/// A wait on the serving path ran past its deadline, so the request was ended rather than left hanging
/// (HTTP 504, code <c>deadline_exceeded</c>). <see cref="Phase"/> says which wait: <c>placement</c> (finding a
/// device, validating, pinning and loading the adapter), <c>first_token</c> (engine admission and prefill) or
/// <c>next_token</c> (the gap between two tokens). Retrying later is safe.
/// </summary>
[GenerateSerializer]
public sealed class DeadlineExceededException(string adapterId, string phase, TimeSpan deadline, string setting)
    : OrleansLoraException($"adapter \"{adapterId}\": {Describe(phase)} took longer than {deadline.TotalSeconds:0.###} s ({setting}); the request was ended. The device may be overloaded or a worker failing over; retry later.")
{
    [Id(0)] public string AdapterId { get; private set; } = adapterId;
    [Id(1)] public string Phase { get; private set; } = phase;
    [Id(2)] public TimeSpan Deadline { get; private set; } = deadline;

    private static string Describe(string phase) => phase switch
    {
        "placement" => "placing the adapter on a device (validate, pin, load)",
        "first_token" => "waiting for the first token (engine admission and prefill)",
        "next_token" => "waiting for the next token",
        _ => phase,
    };
}
