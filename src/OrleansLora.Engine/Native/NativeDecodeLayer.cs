using System.Runtime.InteropServices;

namespace OrleansLora.Engine.Native;

/// <summary>One decoder layer's weights as <c>olora_decode_layer</c> lays them out (q/k/v and gate/up stacked by rows).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeDecodeLayer
{
    public float* InputNorm;
    public float* PostAttentionNorm;
    public float InputNormEps;
    public float PostAttentionNormEps;
    public NativeLinearRef Qkv;
    public NativeLinearRef O;
    public NativeLinearRef GateUp;
    public NativeLinearRef Down;
}
