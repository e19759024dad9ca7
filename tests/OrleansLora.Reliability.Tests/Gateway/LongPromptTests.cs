using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using OrleansLora.Reliability.Tests.Support;
using Xunit.Abstractions;

namespace OrleansLora.Reliability.Tests.Gateway;

/// <summary>
/// Issue 12 item 10: a prompt too long to fit is refused before the tokenizer sees it, and a long prompt that must be
/// tokenized is tokenized off the adapter grain's turn, so other requests on the same adapter are served meanwhile.
/// </summary>
[Collection(HostileGatewayCollection.Name)]
public sealed partial class LongPromptTests(HostileGatewayFixture server, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_prompt_longer_than_any_that_fits_is_a_413_naming_its_characters()
    {
        using var http = server.CreateClient();
        long bound = await PromptCharBoundAsync(http);
        // The bound is above what the context could hold at one character per token, and far below the body limit.
        Assert.InRange(bound, 1024, 4_000_000);
        string prompt = new('a', (int)bound + 1);
        var error = await Api.PostErrorAsync(http, "v1/completions", new { model = "demo-poet", prompt, max_tokens = 2 },
            HttpStatusCode.RequestEntityTooLarge, "invalid_request_error", "prompt", HostileGatewayFixture.UserKey);
        Assert.Equal("context_length_exceeded", Api.Text(error["code"]));
        Assert.Contains($"{bound + 1} characters", Api.Text(error["message"]));
    }

    [Fact]
    public async Task Long_prompts_being_tokenized_on_an_adapter_do_not_stall_a_short_request_on_it()
    {
        string adapter = server.WriteAdapter();
        using var http = server.CreateClient();
        long bound = await PromptCharBoundAsync(http);
        await Api.PostOkAsync(http, "v1/completions", new { model = adapter, prompt = "Hi", max_tokens = 2 }, HostileGatewayFixture.UserKey); // activated and pinned

        // Prompts inside the bound and past the inline size: they are tokenized off the turn (distinct words, so the
        // tokenizer's word cache does not help; about a second each here), then refused for their token count. Long
        // preparations run a few at a time per silo, so together these take several seconds.
        const int longCount = 5;
        int longChars = (int)Math.Min(bound, 40_000);
        var longOnes = Enumerable.Range(0, longCount).Select(i => Task.Run(async () =>
        {
            var clock = Stopwatch.StartNew();
            using var response = await Api.PostAsync(http, "v1/completions", new { model = adapter, prompt = DistinctWords(longChars, seed: i), max_tokens = 2 }, HostileGatewayFixture.UserKey);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(), clock.Elapsed);
        })).ToList();
        await Task.Delay(300); // the long prompts are on their way first

        var shortClock = Stopwatch.StartNew();
        var shortAnswer = await Api.PostOkAsync(http, "v1/completions", new { model = adapter, prompt = "Hello", max_tokens = 2 }, HostileGatewayFixture.UserKey).WaitAsync(Deadline);
        var shortTime = shortClock.Elapsed;
        int stillRunning = longOnes.Count(t => !t.IsCompleted);
        Assert.Equal(2, Api.Int(shortAnswer["usage"]!["completion_tokens"]));

        var results = await Task.WhenAll(longOnes).WaitAsync(Deadline);
        foreach (var (status, body, _) in results)
        {
            Assert.True(status == HttpStatusCode.RequestEntityTooLarge, $"a long prompt answered {(int)status}: {body[..Math.Min(body.Length, 300)]}");
            Assert.Contains("tokens", body);
        }
        var slowest = results.Max(r => r.Elapsed);
        output.WriteLine($"bound {bound} characters, long prompts of {longChars}; short request {shortTime.TotalMilliseconds:F0} ms with {stillRunning} long prompts still running; long prompts {string.Join(", ", results.Select(r => $"{r.Elapsed.TotalMilliseconds:F0}"))} ms");
        // Tokenized on the grain's turn, the short request would wait for the long prompts queued before it.
        Assert.True(stillRunning > 0,
            $"the short request took {shortTime.TotalMilliseconds:F0} ms and ended after all {longCount} long prompts (slowest {slowest.TotalMilliseconds:F0} ms): it waited for them");
    }

    /// <summary>The server's prompt bound in characters, read from the 413 of a prompt far past it.</summary>
    private static async Task<long> PromptCharBoundAsync(HttpClient http)
    {
        var error = await Api.PostErrorAsync(http, "v1/completions", new { model = "demo-poet", prompt = new string('a', 7_000_000), max_tokens = 2 },
            HttpStatusCode.RequestEntityTooLarge, "invalid_request_error", "prompt", HostileGatewayFixture.UserKey);
        var match = BoundPattern().Match(Api.Text(error["message"]));
        Assert.True(match.Success, $"the 413 does not state the bound: {Api.Text(error["message"])}");
        return long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>About <paramref name="chars"/> characters of distinct random lower-case words.</summary>
    private static string DistinctWords(int chars, int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder(chars);
        while (text.Length < chars - 12)
        {
            int length = random.Next(3, 10);
            for (int i = 0; i < length; i++)
                text.Append((char)('a' + random.Next(26)));
            text.Append(' ');
        }
        return text.ToString();
    }

    [GeneratedRegex(@"no prompt longer than (\d+) characters")]
    private static partial Regex BoundPattern();
}
