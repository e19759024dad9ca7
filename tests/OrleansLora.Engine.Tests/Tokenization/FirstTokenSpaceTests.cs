using System.Threading.Channels;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Engine.Tests.Tokenization;

/// <summary>
/// A SentencePiece model's first generated token keeps its leading space: after the prompt
/// "Hello world", "▁Rock" streams as " Rock" (the engine's detokenizer starts with the prompt as
/// context, as vLLM's and TGI's do), so prompt + completion reads "Hello world Rock".
/// </summary>
public sealed class FirstTokenSpaceTests
{
    [Fact]
    public void Llama2_completion_keeps_the_space_of_its_first_token()
    {
        var tokenizer = TokenizerLoader.Load(RepositoryFiles.TokenizerPackage("llama2"));
        var prompt = tokenizer.Encode("Hello world", addBos: true);
        var generated = tokenizer.Encode("Rock Rock", addBos: false); // "▁Rock", "▁Rock"
        Assert.Equal(2, generated.Count);

        var sequence = new SequenceState(new GenerationRequest { PromptTokens = prompt }, prompt, tokenizer, Channel.CreateUnbounded<GenerationChunk>().Writer, CancellationToken.None);
        string completion = string.Concat(generated.Select(sequence.Detokenizer.Append)) + sequence.Detokenizer.Flush();

        Assert.Equal(" Rock Rock", completion);
        Assert.Equal(tokenizer.Decode([.. prompt, .. generated]), tokenizer.Decode(prompt) + completion);
    }
}
