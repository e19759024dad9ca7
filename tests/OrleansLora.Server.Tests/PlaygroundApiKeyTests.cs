using OrleansLora.Server.Tests.Playground;
using static Microsoft.Playwright.Assertions;

namespace OrleansLora.Server.Tests;

/// <summary>The playground on a gateway with API keys: the key field, its localStorage, and the Bearer header on every call.</summary>
public sealed class PlaygroundApiKeyTests(PlaygroundKeyedGateway server, PlaygroundBrowser browser)
    : IClassFixture<PlaygroundKeyedGateway>, IClassFixture<PlaygroundBrowser>
{
    [Fact]
    public async Task Without_the_key_the_page_says_so_and_with_it_loads_models_and_chats()
    {
        await using var page = await browser.OpenAsync(server.BaseAddress);
        var status = page.Page.GetByTestId("adapters-status");
        await Expect(status).ToContainTextAsync("401 missing_api_key", new() { Timeout = 30_000 });

        await page.FillAsync("api-key", PlaygroundKeyedGateway.Key);
        await page.Page.GetByTestId("api-key").PressAsync("Enter");
        await page.WaitForModelAsync("demo-poet");

        // The key is kept in localStorage: a reload needs no typing.
        await page.Page.ReloadAsync();
        await Expect(page.Page.GetByTestId("api-key")).ToHaveValueAsync(PlaygroundKeyedGateway.Key);
        await page.WaitForModelAsync("demo-poet");

        await page.UseAsync("demo-poet", 'a');
        await page.FillAsync("max-tokens", "8");
        await page.SendAsync("Hello");
        await page.WaitForStateAsync('a', "done");
        await Expect(page.Pane('a').GetByTestId("error")).ToHaveCountAsync(0);
        page.AssertStayedLocalWithoutScriptErrors();
    }
}
