using OrleansLora.Server.Hosting;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Configuration.AddCommandLine(args, new Dictionary<string, string>(OrleansLoraServerExtensions.SwitchMappings));
try
{
    builder.AddOrleansLoraServer();
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"olora-server: configuration error: {ex.Message}");
    return 2;
}

var app = builder.Build();
app.MapGet("/health", () => Results.Ok(new { status = "ok" }));
await app.RunAsync();
return 0;
