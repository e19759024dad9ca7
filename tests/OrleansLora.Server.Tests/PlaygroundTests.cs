using System.Text.RegularExpressions;
using OrleansLora.Server.Tests.Playground;
using OrleansLora.Server.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace OrleansLora.Server.Tests;

/// <summary>
/// The web playground at / in headless Chromium against the real gateway: the models table, one adapter
/// streaming, two side by side, Stop (a server-side cancellation), and errors in the server's words.
/// Screenshots land in artifacts/test-logs/playground-*.png.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed partial class PlaygroundTests(GatewayFixture server, PlaygroundBrowser browser) : IClassFixture<PlaygroundBrowser>
{
    private static readonly string[] DemoAdapters = ["demo-support", "demo-sql", "demo-poet"];

    [GeneratedRegex(@"^\d+ ms$")]
    private static partial Regex Milliseconds();

    [GeneratedRegex(@"^\d+\.\d$")]
    private static partial Regex Rate();

    [GeneratedRegex(@"^[1-9]\d*$")]
    private static partial Regex Positive();

    [GeneratedRegex(@"\S")]
    private static partial Regex AnyText();

    [Fact]
    public async Task The_models_table_lists_the_base_model_and_the_demo_adapters()
    {
        await using var page = await browser.OpenAsync(server.BaseAddress);

        await page.WaitForModelAsync("tiny");
        foreach (string adapter in DemoAdapters)
        {
            await page.WaitForModelAsync(adapter);
            await Expect(page.ModelRow(adapter).GetByTestId("status")).ToHaveTextAsync(new Regex("^(registered|active|loading|cached)"));
        }
        await Expect(page.Page.GetByTestId("server-info")).ToContainTextAsync("Base model tiny");
        page.AssertStayedLocalWithoutScriptErrors();
    }

    [Fact]
    public async Task One_adapter_streams_text_and_fills_in_its_numbers_and_counters()
    {
        await using var page = await browser.OpenAsync(server.BaseAddress);
        await page.WaitForModelAsync("demo-sql");
        await page.UseAsync("demo-sql", 'a');
        await page.FillAsync("max-tokens", "24");
        await page.FillAsync("seed", "7");

        await page.SendAsync("List the ten newest orders.");

        await Expect(page.Reply('a')).ToHaveTextAsync(AnyText(), new() { Timeout = 120_000 });
        await page.WaitForStateAsync('a', "done");
        await Expect(page.Stat('a', "ttft")).ToHaveTextAsync(Milliseconds());
        await Expect(page.Stat('a', "tps")).ToHaveTextAsync(Rate());
        await Expect(page.Stat('a', "tokens")).ToHaveTextAsync(Positive());
        await Expect(page.Stat('a', "finish")).ToHaveTextAsync(new Regex("^(length|stop)$"));
        await Expect(page.Pane('b')).ToBeHiddenAsync();

        // The workers publish counters periodically: Refresh until the table shows this request.
        var requests = page.ModelRow("demo-sql").GetByTestId("counters");
        for (var deadline = DateTime.UtcNow.AddSeconds(60); await requests.GetAttributeAsync("data-requests") is null or "0";)
        {
            Assert.True(DateTime.UtcNow < deadline, "demo-sql's counters never reached the models table after Refresh");
            await page.Page.GetByTestId("refresh").ClickAsync();
            await Task.Delay(500);
        }
        await Expect(page.ModelRow("demo-sql").GetByTestId("status")).ToHaveTextAsync("active");

        await page.ScreenshotAsync("playground-single.png");
        page.AssertStayedLocalWithoutScriptErrors();
    }

    [Fact]
    public async Task Side_by_side_two_adapters_both_stream_the_same_prompt()
    {
        await using var page = await browser.OpenAsync(server.BaseAddress);
        await page.WaitForModelAsync("demo-poet");
        await page.UseAsync("demo-poet", 'a');
        await page.UseAsync("demo-support", 'b'); // choosing pane B turns side by side on
        await Expect(page.Page.GetByTestId("compare")).ToBeCheckedAsync();
        await page.FillAsync("max-tokens", "24");
        await page.FillAsync("seed", "42");

        await page.SendAsync("Tell me about the sea.");

        foreach (char pane in "ab")
        {
            await page.WaitForStateAsync(pane, "done");
            await Expect(page.Reply(pane)).ToHaveTextAsync(AnyText());
            await Expect(page.Pane(pane).GetByTestId("user-message")).ToHaveTextAsync("Tell me about the sea.");
            await Expect(page.Stat(pane, "ttft")).ToHaveTextAsync(Milliseconds());
            await Expect(page.Stat(pane, "tokens")).ToHaveTextAsync(Positive());
        }
        await page.ScreenshotAsync("playground-compare.png");
        page.AssertStayedLocalWithoutScriptErrors();
    }

    [Fact]
    public async Task Stop_ends_the_stream_and_the_server_counts_a_cancellation()
    {
        using var http = server.CreateClient();
        // The tiny model writes 900 tokens in well under a second on a fast machine, so a hiccup of the
        // browser or the machine between the first token and the abort can let the server finish first
        // (seen once in CI). Such a try shows nothing about Stop: it is repeated, up to three times, and
        // reported if every try lost the race. A Stop that never reaches the server fails all three.
        var lost = new List<string>();
        for (int attempt = 1; ; attempt++)
        {
            string? miss = await StopOneReplyAsync(http);
            if (miss is null)
                return;
            lost.Add(miss);
            Assert.True(attempt < 3, $"the server generated all 900 tokens in every try: Stop never reached it ({string.Join("; ", lost)})");
        }
    }

    /// <summary>
    /// Sends a long prompt from pane A, presses Stop at the first token and waits for the server's counters:
    /// null when it counted the request cancelled, else what it counted instead.
    /// </summary>
    private async Task<string?> StopOneReplyAsync(HttpClient http)
    {
        // An adapter of its own (served on first use), so its counters count this request alone: a shared demo
        // adapter's counters are not listed while it is out of memory, which made a "before" reading unreliable.
        string adapter = server.WriteAdapter();
        await using var page = await browser.OpenAsync(server.BaseAddress);
        await page.WaitForModelAsync("demo-support"); // the page has loaded
        await page.Page.GetByTestId("model").First.FillAsync(adapter);
        await page.FillAsync("max-tokens", "900");

        // Stop is clicked from inside the page the moment the first token shows. Clicking through Playwright
        // raced the tiny model: a fast machine wrote all 900 tokens (well under a second) before the click
        // landed, and the run showed nothing about Stop. The observer runs as a microtask of the DOM change,
        // before the page reads the next chunk, so the stream is always still open when Stop is pressed; a
        // disabled Stop button at that moment is recorded and fails the test.
        await page.Page.EvaluateAsync("""
            () => {
              const pane = document.querySelector('[data-testid="pane-a"]');
              const stop = document.querySelector('[data-testid="stop"]');
              window.__stopPressed = null;
              const observer = new MutationObserver(() => {
                if (pane.dataset.state !== "streaming") return;
                observer.disconnect();
                window.__stopPressed = !stop.disabled;
                stop.click();
              });
              observer.observe(pane, { attributes: true, attributeFilter: ["data-state"] });
            }
            """);

        await page.SendAsync("Write a very long story.");
        await Expect(page.Pane('a')).ToHaveAttributeAsync("data-state", "stopped", PlaygroundSession.Slow);
        Assert.True(await page.Page.EvaluateAsync<bool?>("() => window.__stopPressed"), "Stop was disabled while the reply was streaming");
        await Expect(page.Stat('a', "finish")).ToHaveTextAsync("stopped");
        await Expect(page.Reply('a')).ToHaveTextAsync(AnyText()); // the text streamed before Stop is kept
        await Expect(page.Page.GetByTestId("send")).ToBeEnabledAsync();
        await Expect(page.Page.GetByTestId("stop")).ToBeDisabledAsync();
        await Expect(page.Pane('a').GetByTestId("error")).ToBeHiddenAsync();
        page.AssertStayedLocalWithoutScriptErrors();

        // The closed connection cancels the generation on the server, long before its 900 tokens.
        var counters = await CancellationTests.WaitForAsync(http, $"v1/adapters/{adapter}",
            a => a["counters"] is { } n && Api.Int(n["requests"]) == 1);
        var c = counters["counters"]!;
        Assert.Equal(0, Api.Int(c["errors"]));
        long generated = c["generated_tokens"]!.GetValue<long>();
        if (Api.Int(c["cancelled"]) == 1)
        {
            Assert.True(generated < 900, $"{adapter} counted a cancellation but also all 900 tokens");
            return null;
        }
        return $"{adapter} finished with {generated} tokens";
    }

    [Fact]
    public async Task Errors_from_the_server_are_shown_in_the_pane()
    {
        await using var page = await browser.OpenAsync(server.BaseAddress);
        await page.WaitForModelAsync("demo-sql");

        await page.Page.GetByTestId("model").First.FillAsync("no-such-adapter");
        await page.SendAsync("Hello");
        await page.WaitForStateAsync('a', "error");
        var error = page.Pane('a').GetByTestId("error").Last;
        await Expect(error).ToContainTextAsync("404 model_not_found (model)");
        await Expect(error).ToContainTextAsync("no-such-adapter");
        await Expect(page.Stat('a', "finish")).ToHaveTextAsync("error");

        await page.UseAsync("demo-sql", 'a');
        await page.FillAsync("temperature", "5");
        await page.SendAsync("Hello again");
        await page.WaitForStateAsync('a', "error");
        await Expect(error).ToContainTextAsync("400 invalid_parameter (temperature)");
        await Expect(page.Pane('a').GetByTestId("error")).ToHaveCountAsync(2); // each failed prompt keeps its error

        await page.ScreenshotAsync("playground-error.png");
        page.AssertStayedLocalWithoutScriptErrors();
    }
}
