using OrleansLora.Server.Hosting;

return await OrleansLoraServerApp.RunAsync(args);
