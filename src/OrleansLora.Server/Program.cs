using OrleansLora.Server.Hosting;

WebApplication app;
try
{
    app = OrleansLoraServerApp.Build(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"olora-server: configuration error: {ex.Message}");
    return 2;
}

await app.RunAsync();
return 0;
