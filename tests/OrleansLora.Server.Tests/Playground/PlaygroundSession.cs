using System.Collections.Concurrent;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace OrleansLora.Server.Tests.Playground;

/// <summary>
/// One browser context on the playground: the page, every request it made that went anywhere but the
/// gateway, and every uncaught script error. Locators use the page's data-testid attributes.
/// </summary>
public sealed class PlaygroundSession : IAsyncDisposable
{
    /// <summary>Generation and adapter loads on a busy CPU: waits for the model are generous.</summary>
    public static readonly LocatorAssertionsToHaveAttributeOptions Slow = new() { Timeout = 120_000 };

    private readonly IBrowserContext _context;
    private readonly ConcurrentQueue<string> _external = new();
    private readonly ConcurrentQueue<string> _scriptErrors = new();

    private PlaygroundSession(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
    }

    public IPage Page { get; }

    public static async Task<PlaygroundSession> StartAsync(IBrowserContext context, Uri gateway)
    {
        var session = new PlaygroundSession(context, await context.NewPageAsync());
        context.Request += (_, request) =>
        {
            var url = new Uri(request.Url);
            bool local = url.Scheme is "data" or "blob" || (url.Host == gateway.Host && url.Port == gateway.Port);
            if (!local)
                session._external.Enqueue(request.Url);
        };
        session.Page.PageError += (_, error) => session._scriptErrors.Enqueue(error);
        await session.Page.GotoAsync("/");
        return session;
    }

    public ILocator Pane(char letter) => Page.GetByTestId($"pane-{letter}");

    public ILocator Reply(char letter) => Pane(letter).GetByTestId("reply").Last;

    public ILocator Stat(char letter, string name) => Pane(letter).GetByTestId(name);

    public ILocator ModelRow(string model) => Page.Locator($"[data-testid=model-row][data-model='{model}']");

    public Task UseAsync(string model, char letter) =>
        Page.GetByRole(AriaRole.Button, new() { Name = $"Use {model} in pane {char.ToUpperInvariant(letter)}", Exact = true }).ClickAsync();

    public Task FillAsync(string testId, string value) => Page.GetByTestId(testId).FillAsync(value);

    public async Task SendAsync(string prompt)
    {
        await FillAsync("prompt", prompt);
        await Page.GetByTestId("send").ClickAsync();
    }

    public Task WaitForStateAsync(char letter, string state) => Expect(Pane(letter)).ToHaveAttributeAsync("data-state", state, Slow);

    /// <summary>The table lists <paramref name="model"/> once the page has loaded the adapters.</summary>
    public Task WaitForModelAsync(string model) => Expect(ModelRow(model)).ToBeVisibleAsync(new() { Timeout = 30_000 });

    public Task ScreenshotAsync(string name) => Page.ScreenshotAsync(new() { Path = PlaygroundArtifacts.PathFor(name), FullPage = true });

    /// <summary>Nothing left for another host, and no script threw.</summary>
    public void AssertStayedLocalWithoutScriptErrors()
    {
        Assert.True(_external.IsEmpty, $"the page requested other hosts: {string.Join(", ", _external)}");
        Assert.True(_scriptErrors.IsEmpty, $"uncaught script errors: {string.Join(" | ", _scriptErrors)}");
    }

    public ValueTask DisposeAsync() => new(_context.CloseAsync());
}
