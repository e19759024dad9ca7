using OrleansLora.Engine.Tests.Support;
using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Engine.Tests.Tokenization;

/// <summary>Writes the GPT-2 tokenizer files once per test class into a temporary directory.</summary>
public sealed class Gpt2TokenizerFixture : IDisposable
{
    public Gpt2TokenizerFixture()
    {
        Directory = TempDirectory.Create("gpt2");
        Gpt2TokenizerFiles.Write(Directory);
        Tokenizer = TokenizerLoader.Load(Directory);
    }

    public string Directory { get; }

    public ITextTokenizer Tokenizer { get; }

    public void Dispose() => TempDirectory.Delete(Directory);
}
