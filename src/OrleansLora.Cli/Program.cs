using System.CommandLine;
using OrleansLora.Cli.Commands;

var root = new RootCommand("olora: OrleansLora model tools — initialise random-weight models, generate, inspect logits, tokenize.")
{
    ModelCommand.Create(),
    AdapterCommand.Create(),
    GenerateCommand.Create(),
    LogitsCommand.Create(),
    TokenizeCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
