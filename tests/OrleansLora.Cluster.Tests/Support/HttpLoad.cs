using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace OrleansLora.Cluster.Tests.Support;

/// <summary>
/// Steady HTTP load for the fault tests: once started, a few loops send short chat completions round-robin
/// over the adapters to one gateway and record every outcome (status, Retry-After, a client-side timeout as
/// a hang). <see cref="Send"/> sends one request outside the loops.
/// </summary>
public sealed class HttpLoad : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly IReadOnlyList<string> _adapters;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly List<Outcome> _outcomes = [];
    private readonly Stopwatch _clock = new();

    /// <param name="requestTimeout">A request still open after this long counts as a hang.</param>
    public HttpLoad(string baseUrl, IReadOnlyList<string> adapters, TimeSpan requestTimeout)
    {
        _http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = requestTimeout };
        _adapters = adapters;
    }

    /// <summary>Starts <paramref name="loops"/> loops of requests.</summary>
    public void Start(int loops)
    {
        var adapters = _adapters;
        _clock.Restart();
        for (int i = 0; i < loops; i++)
        {
            int loop = i;
            _loops.Add(Task.Run(async () =>
            {
                // Stopping lets the request in flight finish (or time out): a hang must show up, not be cancelled.
                for (int n = loop; !_stop.IsCancellationRequested; n += loops)
                    await Send(adapters[n % adapters.Count]);
            }));
        }
    }

    /// <summary>One outcome: seconds since the load started, the adapter, the HTTP status (0: no answer), Retry-After, and what went wrong.</summary>
    public sealed record Outcome(double At, string Adapter, int Status, bool RetryAfter, string Detail);

    public IReadOnlyList<Outcome> Outcomes
    {
        get
        {
            lock (_outcomes)
                return [.. _outcomes];
        }
    }

    public double Now => _clock.Elapsed.TotalSeconds;

    /// <summary>Sends one short chat completion on <paramref name="adapter"/>; once the load started, its outcome is recorded too.</summary>
    public async Task<Outcome> Send(string adapter, CancellationToken cancellationToken = default)
    {
        var outcome = await SendOnce(adapter, cancellationToken);
        if (_clock.IsRunning)
        {
            lock (_outcomes)
                _outcomes.Add(outcome);
        }
        return outcome;
    }

    private async Task<Outcome> SendOnce(string adapter, CancellationToken cancellationToken)
    {
        double at = Now;
        var body = JsonSerializer.Serialize(new
        {
            model = adapter,
            messages = new[] { new { role = "user", content = "Hello" } },
            max_tokens = 4,
            temperature = 0,
        });
        try
        {
            using var response = await _http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"), cancellationToken);
            string text = await response.Content.ReadAsStringAsync(cancellationToken);
            return new Outcome(at, adapter, (int)response.StatusCode, response.Headers.RetryAfter is not null,
                response.StatusCode == HttpStatusCode.OK ? "" : text.Length > 300 ? text[..300] : text);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Outcome(at, adapter, 0, false, $"no answer within {_http.Timeout.TotalSeconds} s (hung)");
        }
        catch (HttpRequestException ex)
        {
            return new Outcome(at, adapter, 0, false, $"connection failed: {ex.Message}");
        }
    }

    /// <summary>Outcomes other than 200 or a 503 that carries Retry-After (the documented answer while a worker fails over).</summary>
    public IReadOnlyList<Outcome> Unexpected() =>
        Outcomes.Where(o => o.Status != 200 && !(o.Status == 503 && o.RetryAfter)).ToList();

    public string Summary() =>
        string.Join(", ", Outcomes.GroupBy(o => o.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()}× {(g.Key == 0 ? "no answer" : g.Key.ToString())}"));

    /// <summary>Writes the counts and every answer other than 200.</summary>
    public void Report(ITestOutputHelper output)
    {
        output.WriteLine($"load: {Summary()}");
        foreach (var o in Outcomes.Where(o => o.Status != 200))
            output.WriteLine($"  {o.At:F1} s {o.Adapter}: {o.Status} retry-after={o.RetryAfter} {o.Detail}");
    }

    /// <summary>Fails when an answer was neither 200 nor a 503 with Retry-After; <paramref name="when"/> says when the faults happened.</summary>
    public void AssertOnlyOkOrRetryLater(string when)
    {
        var unexpected = Unexpected();
        Assert.True(unexpected.Count == 0, $"{unexpected.Count} answers were neither 200 nor 503 with Retry-After ({when}): " +
            string.Join(" | ", unexpected.Take(5).Select(o => $"{o.At:F1} s {o.Adapter}: {o.Status} {o.Detail}")));
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _http.Dispose();
        _stop.Dispose();
    }
}
