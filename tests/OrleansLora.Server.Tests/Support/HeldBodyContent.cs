using System.Net;
using System.Text;

namespace OrleansLora.Server.Tests.Support;

/// <summary>A request body sent in two parts, the second only when <see cref="Release"/> is called: the request stays in flight until then.</summary>
public sealed class HeldBodyContent(string json, int split) : HttpContent
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _release.TrySetResult();

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        await stream.WriteAsync(bytes.AsMemory(0, split));
        await stream.FlushAsync();
        await _release.Task;
        await stream.WriteAsync(bytes.AsMemory(split));
    }

    protected override bool TryComputeLength(out long length)
    {
        // Unknown length: chunked, so the server starts the request before the body is complete.
        length = 0;
        return false;
    }
}
