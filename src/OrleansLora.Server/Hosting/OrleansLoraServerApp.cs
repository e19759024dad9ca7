namespace OrleansLora.Server.Hosting;

/// <summary>Builds the silo process: Orleans (role, clustering, grains) and its HTTP side (gateway APIs, playground, metrics).</summary>
public static class OrleansLoraServerApp
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the option when the configuration is invalid.</summary>
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddCommandLine(args, new Dictionary<string, string>(OrleansLoraServerExtensions.SwitchMappings));
        var server = builder.AddOrleansLoraServer();
        var gateway = builder.AddOrleansLoraGateway();
        var app = builder.Build();
        app.MapOrleansLoraGateway(server, gateway);
        return app;
    }
}
