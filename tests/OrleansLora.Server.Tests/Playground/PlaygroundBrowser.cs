using Microsoft.Playwright;

namespace OrleansLora.Server.Tests.Playground;

/// <summary>
/// Playwright (its node driver ships in the NuGet package and is copied to the output folder) driving
/// Debian's Chromium: Playwright's own browser download is never used, so nothing is fetched at test time.
/// A missing Chromium fails the tests with the command that installs it.
/// </summary>
public sealed class PlaygroundBrowser : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("the browser is not started");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException(
                $"the playground browser tests need Chromium at {ChromiumPath}, which is missing: run scripts/ensure-deps.sh (apt-get install chromium).");
        _playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumPath, Headless = true, Args = ["--no-sandbox"] });
    }

    /// <summary>A fresh context (own localStorage) and page on <paramref name="baseAddress"/>.</summary>
    public async Task<PlaygroundSession> OpenAsync(Uri baseAddress)
    {
        var context = await Browser.NewContextAsync(new() { BaseURL = baseAddress.ToString(), ViewportSize = new() { Width = 1400, Height = 900 } });
        return await PlaygroundSession.StartAsync(context, baseAddress);
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
            await _browser.CloseAsync();
        _playwright?.Dispose();
    }
}
