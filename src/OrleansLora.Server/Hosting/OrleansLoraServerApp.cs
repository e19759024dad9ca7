namespace OrleansLora.Server.Hosting;

/// <summary>Builds the silo process: Orleans (role, clustering, grains) and its HTTP side (gateway APIs, playground, metrics).</summary>
public static class OrleansLoraServerApp
{
    /// <summary>Exit code of a configuration error (an invalid option, or a port another process listens on).</summary>
    public const int ConfigurationErrorExitCode = 2;

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

    /// <summary>Builds and runs the server until it stops; a configuration error ends it with a one-line message and exit code 2.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        WebApplication app;
        try
        {
            app = Build(args);
        }
        catch (ArgumentException ex)
        {
            return ConfigurationError(ex);
        }
        await using (app)
        {
            try
            {
                await app.RunAsync();
                return 0;
            }
            catch (Exception ex) when (PortInUse(ex) is { } port)
            {
                return ConfigurationError(port);
            }
        }
    }

    private static int ConfigurationError(ArgumentException error)
    {
        // Without the " (Parameter '...')" suffix: the message names the option already.
        string message = error.ParamName is { } name ? error.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : error.Message;
        Console.Error.WriteLine($"olora-server: configuration error: {message}");
        return ConfigurationErrorExitCode;
    }

    /// <summary>The <see cref="PortInUseException"/> that Orleans' start-up wrapped in <paramref name="exception"/>, if any.</summary>
    private static PortInUseException? PortInUse(Exception? exception) => exception switch
    {
        null => null,
        PortInUseException port => port,
        AggregateException aggregate => aggregate.InnerExceptions.Select(PortInUse).FirstOrDefault(p => p is not null),
        _ => PortInUse(exception.InnerException),
    };
}
