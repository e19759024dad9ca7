using System.Text;
using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Checkpoints;
using OrleansLora.Engine.Files;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Tests.Support;

namespace OrleansLora.Engine.Tests.Adapters;

/// <summary>
/// Every file the adapter loader opens goes through the sandbox: symbolic links out of the store (on the
/// directory or on a file, through ".." after a link), FIFOs, devices and oversized files are refused
/// with the file named, by registration (Inspect) and by both load paths, without ever blocking.
/// </summary>
public sealed class AdapterSandboxTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>, IDisposable
{
    private static readonly TimeSpan NoBlock = TimeSpan.FromSeconds(20);
    private readonly TempDirectory _dir = new("olora-adapter-sandbox");
    private readonly ModelConfig _base = ModelConfig.Load(model.Path);

    private string Root => _dir.File("store");
    private AdapterLoadOptions Sandboxed => new() { Sandbox = new FileSandbox(Root, "the adapter store") };

    private string Write(string relative)
    {
        string dir = Path.Combine(relative.StartsWith('/') ? "" : Root, relative);
        PeftAdapterWriter.WriteRandom(_base, dir, 4, 8, [LoraTargetModules.QProj, LoraTargetModules.VProj], seed: 5);
        return dir;
    }

    /// <summary>Registration and both load paths refuse <paramref name="dir"/>, each within a deadline; returns the message.</summary>
    private string RefusedEverywhere(string dir, AdapterLoadOptions? options = null)
    {
        options ??= Sandboxed;
        string? message = null;
        foreach (var (name, load) in new (string, Action)[]
        {
            ("Inspect", () => PeftAdapter.Inspect(dir, _base, options)),
            ("PeftAdapter.Load", () => PeftAdapter.Load(dir, _base, options).Dispose()),
            ("PreparedAdapter.Load", () => PreparedAdapter.Load(dir, _base, TorchSharp.torch.ScalarType.BFloat16, options).Release()),
        })
        {
            var task = Task.Run(load);
            Assert.True(Task.WaitAny([task], NoBlock) == 0, $"{name} of {dir} blocked for {NoBlock}");
            var error = task.Exception?.InnerException;
            Assert.True(error is ModelFormatException or FileRefusedException, $"{name}: expected a refusal, got {error?.ToString() ?? "a load"}");
            message ??= error!.Message;
            Assert.Equal(message, error!.Message);
        }
        return message!;
    }

    [Fact]
    public void A_directory_link_that_escapes_through_dotdot_after_a_link_is_refused()
    {
        string victim = Write(_dir.File("elsewhere/victim"));
        Directory.CreateDirectory(_dir.File("elsewhere/deep"));
        Directory.CreateDirectory(Root);
        Directory.CreateSymbolicLink(Path.Combine(Root, "sdeep"), _dir.File("elsewhere/deep"));
        Directory.CreateSymbolicLink(Path.Combine(Root, "dotdotlink"), "sdeep/../victim");
        Assert.True(File.Exists(Path.Combine(Root, "dotdotlink", PeftAdapterConfig.FileName)), "the link must really reach the victim");
        Assert.Contains("outside the adapter store", RefusedEverywhere(Path.Combine(Root, "dotdotlink")));
        PeftAdapter.Inspect(victim, _base); // the victim itself is a valid adapter
    }

    [Theory]
    [InlineData(PeftAdapterConfig.FileName)]
    [InlineData(PeftAdapter.WeightsFileName)]
    public void A_file_linked_out_of_the_store_is_refused(string file)
    {
        string outside = Write(_dir.File("elsewhere/source"));
        string dir = Write("linked");
        File.Delete(Path.Combine(dir, file));
        File.CreateSymbolicLink(Path.Combine(dir, file), Path.Combine(outside, file));
        string message = RefusedEverywhere(dir);
        Assert.Contains(file, message);
        Assert.Contains("outside the adapter store", message);
        // Without a sandbox (the command-line tools) the same directory loads.
        PeftAdapter.Inspect(dir, _base);
    }

    [Fact]
    public void A_file_linked_out_through_dotdot_after_a_link_is_refused()
    {
        string outside = Write(_dir.File("elsewhere/source"));
        Directory.CreateDirectory(_dir.File("elsewhere/deep"));
        string dir = Write("dotdot-file");
        Directory.CreateSymbolicLink(Path.Combine(dir, "sdeep"), _dir.File("elsewhere/deep"));
        File.Delete(Path.Combine(dir, PeftAdapterConfig.FileName));
        File.CreateSymbolicLink(Path.Combine(dir, PeftAdapterConfig.FileName), $"sdeep/../source/{PeftAdapterConfig.FileName}");
        Assert.Contains("outside the adapter store", RefusedEverywhere(dir));
        Assert.True(File.Exists(Path.Combine(outside, PeftAdapterConfig.FileName)));
    }

    [Fact]
    public void Files_linked_inside_the_store_load()
    {
        string shared = Write("shared-blobs");
        string dir = Write("uses-shared");
        foreach (var file in new[] { PeftAdapterConfig.FileName, PeftAdapter.WeightsFileName })
        {
            File.Delete(Path.Combine(dir, file));
            File.CreateSymbolicLink(Path.Combine(dir, file), Path.Combine("..", "shared-blobs", file));
        }
        Assert.Equal(4, PeftAdapter.Inspect(dir, _base, Sandboxed).Rank);
        PreparedAdapter.Load(dir, _base, TorchSharp.torch.ScalarType.BFloat16, Sandboxed).Release();
        Assert.True(Directory.Exists(shared));
    }

    [Theory]
    [InlineData(PeftAdapterConfig.FileName)]
    [InlineData(PeftAdapter.WeightsFileName)]
    public void A_fifo_in_place_of_a_file_is_refused_without_blocking(string file)
    {
        string dir = Write($"fifo-{file}");
        File.Delete(Path.Combine(dir, file));
        Fifo.Create(Path.Combine(dir, file));
        Assert.Contains("FIFO", RefusedEverywhere(dir));
        Assert.Contains("FIFO", RefusedEverywhere(dir, new AdapterLoadOptions()));
    }

    [Theory]
    [InlineData(PeftAdapterConfig.FileName)]
    [InlineData(PeftAdapter.WeightsFileName)]
    public void A_directory_or_a_device_in_place_of_a_file_is_refused(string file)
    {
        string dir = Write($"dir-{file}");
        File.Delete(Path.Combine(dir, file));
        Directory.CreateDirectory(Path.Combine(dir, file));
        Assert.Contains("a directory, not a regular file", RefusedEverywhere(dir));

        string device = Write($"dev-{file}");
        File.Delete(Path.Combine(device, file));
        File.CreateSymbolicLink(Path.Combine(device, file), "/dev/zero");
        Assert.Contains("outside the adapter store", RefusedEverywhere(device));
        Assert.Contains("character device", RefusedEverywhere(device, new AdapterLoadOptions()));
    }

    [Fact]
    public void An_oversized_config_or_header_is_refused_before_it_is_read()
    {
        string dir = Write("big-config");
        string config = Path.Combine(dir, PeftAdapterConfig.FileName);
        File.WriteAllText(config, File.ReadAllText(config) + new string(' ', 2 << 20)); // valid JSON, but 2 MiB
        Assert.Contains($"more than the {AdapterLoadOptions.DefaultMaxConfigBytes} accepted", RefusedEverywhere(dir));

        string header = Write("big-header");
        Assert.Contains("header length", RefusedEverywhere(header, Sandboxed with { MaxHeaderBytes = 64 }));
    }

    [Fact]
    public void Registration_refuses_a_file_link_through_the_engine_options()
    {
        string outside = Write(_dir.File("elsewhere/source"));
        string dir = Write("engine-linked");
        File.Delete(Path.Combine(dir, PeftAdapter.WeightsFileName));
        File.CreateSymbolicLink(Path.Combine(dir, PeftAdapter.WeightsFileName), Path.Combine(outside, PeftAdapter.WeightsFileName));
        using var engine = AdapterEngines.Create(model.Path, [], new InferenceEngineOptions { MaxLoras = 2, AdapterRoot = Root });
        var ex = Assert.Throws<FileRefusedException>(() => engine.RegisterAdapter("linked", dir));
        Assert.Contains(PeftAdapter.WeightsFileName, ex.Message);
        Assert.False(engine.IsAdapterRegistered("linked"));
        engine.RegisterAdapter("fine", Write("engine-fine"));
        Assert.True(engine.IsAdapterRegistered("fine"));
    }

    [Fact]
    public void Malformed_safetensors_headers_are_refused_naming_the_problem()
    {
        string dir = Write("headers");
        string weights = Path.Combine(dir, PeftAdapter.WeightsFileName);
        const string key = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
        void Raw(string header, int dataBytes) => AdapterTestFiles.WriteRaw(weights, header, new byte[dataBytes]);
        string Entry(string dtype, string shape, long begin, long end) =>
            $"\"{key}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{begin},{end}]}}";

        // Enum.TryParse would take "0" and "F32, F16".
        Raw("{" + Entry("0", "[4,64]", 0, 1024) + "}", 1024);
        Assert.Contains("dtype \"0\" is not supported", RefusedEverywhere(dir));
        Raw("{" + Entry("F32, F16", "[4,64]", 0, 512) + "}", 512);
        Assert.Contains("is not supported", RefusedEverywhere(dir));
        // Two tensors sharing bytes.
        const string other = "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight";
        Raw("{" + Entry("F32", "[4,64]", 0, 1024) + $",\"{other}\":{{\"dtype\":\"F32\",\"shape\":[64,4],\"data_offsets\":[512,1536]}}" + "}", 1536);
        Assert.Contains("overlap", RefusedEverywhere(dir));
        // A shape whose element count overflows 64 bits.
        Raw("{" + Entry("F32", "[4294967296,4294967296,16]", 0, 0) + "}", 0);
        Assert.Contains("malformed header entry", RefusedEverywhere(dir));
        // A header length with the top bit set (negative as a signed number) and one past the end.
        File.WriteAllBytes(weights, [.. BitConverter.GetBytes(ulong.MaxValue - 7), .. Encoding.ASCII.GetBytes("{}      ")]);
        Assert.Contains("beyond the file", RefusedEverywhere(dir));
        File.WriteAllBytes(weights, [.. BitConverter.GetBytes(1000L), .. Encoding.ASCII.GetBytes("{}      ")]);
        Assert.Contains("beyond the file", RefusedEverywhere(dir));
    }

    public void Dispose() => _dir.Dispose();
}
