using System.Runtime.InteropServices;

namespace OrleansLora.Engine.Cuda;

/// <summary>
/// One olora_cuda_model on a <see cref="CudaContext"/>: the decoder's weights, paged KV pools, adapter slot tables and
/// activation buffers in the context's memory. Holds a reference on the context, so the context is destroyed after
/// the model whatever order they are released in. Not thread-safe (the library's rule): the runner calls it from the
/// engine thread only. Every failure is a <see cref="CudaException"/> with the library's message.
/// </summary>
internal sealed unsafe class CudaModel : SafeHandle
{
    private readonly CudaContext _context;
    private bool _contextAdded;

    private CudaModel(CudaContext context) : base(0, ownsHandle: true) => _context = context;

    public override bool IsInvalid => handle == 0;

    /// <summary>Validates <paramref name="config"/> in the library and allocates the model on <paramref name="context"/>.</summary>
    public static CudaModel Create(CudaContext context, in CudaModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(context);
        var model = new CudaModel(context);
        context.DangerousAddRef(ref model._contextAdded);
        try
        {
            var copy = config;
            int rc = CudaNative.ModelCreate(context.DangerousGetHandle(), &copy, out nint h);
            CudaException.ThrowIfFailed(rc, $"creating the model on {CudaContext.NameOf(context.Device)}");
            model.SetHandle(h);
            return model;
        }
        catch
        {
            // No handle: ReleaseHandle will never run, so the context reference goes back here.
            if (model._contextAdded)
            {
                model._contextAdded = false;
                context.DangerousRelease();
            }
            model.SetHandleAsInvalid();
            throw;
        }
    }

    /// <summary>Copies one tensor from host memory (<see cref="CudaNative.Weight"/>; layer -1 for the model-wide ones).</summary>
    public void SetWeight(int kind, int layer, void* data, long dataBytes, void* aux, long auxBytes, string what) =>
        CudaException.ThrowIfFailed(CudaNative.ModelSetWeight(Handle, kind, layer, data, dataBytes, aux, auxBytes), $"setting {what}");

    /// <summary>One (layer, module) of a slot: A bf16 [rank, in], Bᵀ bf16 [rank, out]; rank 0 clears it.</summary>
    public void SetAdapter(int slot, int layer, int module, int rank, ushort* a, ushort* bt) =>
        CudaException.ThrowIfFailed(CudaNative.ModelSetAdapter(Handle, slot, layer, module, rank, a, bt), $"setting adapter slot {slot}, layer {layer}, module {module}");

    /// <summary>Every module of the slot to rank 0, scale 1.</summary>
    public void ClearAdapter(int slot) =>
        CudaException.ThrowIfFailed(CudaNative.ModelClearAdapter(Handle, slot), $"clearing adapter slot {slot}");

    public void Forward(int numTokens, int* tokenIds, int numSeqs, int* starts, int* counts, int* adapterSlots,
        int* blockTables, int blockTableStride, int numLogitRows, int* logitRows, float* logits) =>
        CudaException.ThrowIfFailed(
            CudaNative.ModelForward(Handle, numTokens, tokenIds, numSeqs, starts, counts, adapterSlots, blockTables, blockTableStride, numLogitRows, logitRows, logits),
            "the CUDA runner's forward");

    /// <summary>Copies whole KV blocks (every layer's K and V) for each (source, destination) pair, in order.</summary>
    public void CopyBlocks(int* pairs, int numPairs) =>
        CudaException.ThrowIfFailed(CudaNative.ModelCopyBlocks(Handle, pairs, numPairs), "copying KV blocks");

    /// <summary>Bytes the model holds on its device, by use.</summary>
    public CudaModelMemory Memory()
    {
        CudaException.ThrowIfFailed(CudaNative.ModelMemory(Handle, out long w, out long kv, out long a, out long act), "reading the model's memory");
        return new CudaModelMemory(w, kv, a, act);
    }

    private nint Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed || IsInvalid, this);
            return handle;
        }
    }

    // Never throws: destroy only synchronizes and frees. The context reference goes last, so a context released
    // first still outlives its model.
    protected override bool ReleaseHandle()
    {
        bool ok = CudaNative.ModelDestroy(handle) == 0;
        if (_contextAdded)
            _context.DangerousRelease();
        return ok;
    }
}
