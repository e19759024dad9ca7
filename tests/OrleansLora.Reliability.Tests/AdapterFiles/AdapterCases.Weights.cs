using System.Text;
using System.Text.Json.Nodes;

namespace OrleansLora.Reliability.Tests.AdapterFiles;

// Broken and hostile adapter_model.safetensors files: truncations, the length field, the header JSON,
// offsets, dtypes, shapes and values.
public static partial class AdapterCases
{
    private static IEnumerable<AdapterCase> Truncations()
    {
        // Offsets relative to the file's own layout: the length field, the header, the data section.
        var cuts = new (string Slug, Func<CaseContext, long> At)[]
        {
            ("empty", _ => 0), ("1-byte", _ => 1), ("7-bytes", _ => 7), ("length-field-only", _ => 8), ("9-bytes", _ => 9),
            ("half-header", c => 8 + c.HeaderLength / 2), ("header-minus-1", c => 8 + c.HeaderLength - 1),
            ("no-data", c => 8 + c.HeaderLength), ("1-data-byte", c => 8 + c.HeaderLength + 1),
            ("half-data", c => 8 + c.HeaderLength + (c.WeightsLength - 8 - c.HeaderLength) / 2), ("last-byte", c => c.WeightsLength - 1),
        };
        return cuts.Select(cut => Refused($"truncated-{cut.Slug}", Weights, From(c => c.Truncate(cut.At(c)))));
    }

    private static IEnumerable<AdapterCase> HeaderLengths() =>
    [
        Refused("length-huge", ["header length"], From(c => c.SetLengthField(1UL << 40))),
        Refused("length-u64-max", ["header length"], From(c => c.SetLengthField(ulong.MaxValue))),
        Refused("length-negative-as-u64", ["header length"], From(c => c.SetLengthField(0x8000_0000_0000_0000UL))),
        Refused("length-past-eof", ["header length"], From(c => c.SetLengthField((ulong)c.WeightsLength))),
        Refused("length-zero", ["header length"], From(c => c.SetLengthField(0))),
        Refused("length-short-of-the-json", ["not valid JSON"], From(c => c.SetLengthField((ulong)c.HeaderLength - 10))),
        Refused("length-above-the-limit", ["header length"], From(c =>
        {
            // A 9 MB header of spaces after valid JSON: valid, but above the 8 MiB accepted for adapters.
            var (header, data) = c.ReadWeights();
            c.WriteWeights(header.ToJsonString() + new string(' ', 9_000_000), data);
        })),
    ];

    private static IEnumerable<AdapterCase> Headers() =>
    [
        Refused("header-garbage", ["not valid JSON"], From(c => c.WriteWeights("garbage!", new byte[64]))),
        Refused("header-nul-bytes", ["not valid JSON"], From(c => c.WriteWeights("{\"a\0\": 1}", new byte[64]))),
        Refused("header-array", ["not a JSON object"], From(c => c.WriteWeights("[1, 2, 3]", new byte[64]))),
        Refused("header-nested-deeply", ["not valid JSON"], From(c => c.WriteWeights("{\"x\":" + new string('[', 5000) + new string(']', 5000) + "}", []))),
        Refused("header-duplicate-tensor", ["appears twice"], From(c =>
        {
            var (header, data) = c.ReadWeights();
            string text = header.ToJsonString();
            string entry = $"\"{CaseContext.QA}\":{header[CaseContext.QA]!.ToJsonString()}";
            c.WriteWeights(text.Insert(text.Length - 1, "," + entry), data);
        })),
        Refused("header-unknown-tensor", ["not a LoRA weight"], From(c => c.EditHeader(h => h["lm_head.weight"] = Entry("F32", [0], 0, 0)))),
        Refused("header-missing-lora-b", ["missing"], From(c => c.EditHeader(h => h.Remove(CaseContext.QB)))),
        Refused("header-untargeted-module", ["not covered by target_modules"], From(c =>
            c.EditHeader(h => h[CaseContext.QA.Replace("q_proj", "k_proj")] = Entry("F32", [0, 64], 0, 0)))),
        Refused("header-entry-without-dtype", ["malformed header entry"], From(c => c.EditHeader(h => h[CaseContext.QA]!.AsObject().Remove("dtype")))),
        Refused("header-entry-not-an-object", ["malformed header entry"], From(c => c.EditHeader(h => h[CaseContext.QA] = "F32"))),
    ];

    private static Action<CaseContext> Offsets(Func<long, long, JsonArray> make) => From(c => c.EditHeader(h =>
    {
        var offsets = h[CaseContext.QA]!["data_offsets"]!.AsArray();
        h[CaseContext.QA]!["data_offsets"] = make((long)offsets[0]!, (long)offsets[1]!);
    }));

    private static IEnumerable<AdapterCase> Offsets() =>
    [
        Refused("offsets-begin-after-end", ["data_offsets"], Offsets((b, e) => [e, b])),
        Refused("offsets-end-past-the-data", ["data ends at byte"], Offsets((b, e) => [b + 1_000_000, e + 1_000_000])),
        Refused("offsets-negative", ["data_offsets"], Offsets((b, e) => [-8, e - b - 8])),
        Refused("offsets-fractional", ["malformed header entry"], Offsets((b, e) => [b + 0.5, e])),
        Refused("offsets-strings", ["malformed header entry"], Offsets((b, e) => [b.ToString(), e.ToString()])),
        Refused("offsets-three", ["data_offsets"], Offsets((b, e) => [b, e, e])),
        Refused("offsets-length-not-the-shape", ["holds"], Offsets((b, e) => [b, e - 4])),
        Refused("offsets-overlapping", ["overlap"], From(c => c.EditHeader(h =>
        {
            // q_proj.lora_B moved onto q_proj.lora_A's bytes (the same length: rank 4 x 64 both ways).
            h[CaseContext.QB]!["data_offsets"] = h[CaseContext.QA]!["data_offsets"]!.DeepClone();
        }))),
        Refused("offsets-u64-max", ["malformed header entry", "data_offsets", "data ends"], Offsets((b, e) => [b, JsonNode.Parse("18446744073709551615")])),
    ];

    private static Action<CaseContext> Dtype(string dtype) => From(c => c.EditHeader(h => h[CaseContext.QA]!["dtype"] = dtype));

    private static IEnumerable<AdapterCase> Dtypes() =>
    [
        Refused("dtype-f64", ["dtype \"F64\" is not supported"], Dtype("F64")),
        Refused("dtype-i8", ["is not supported"], Dtype("I8")),
        Refused("dtype-number-text", ["dtype \"0\" is not supported"], Dtype("0")),
        Refused("dtype-flags-text", ["is not supported"], Dtype("F32, F16")),
        Refused("dtype-lower-case", ["is not supported"], Dtype("f32")),
        Refused("dtype-not-a-string", ["malformed header entry"], From(c => c.EditHeader(h => h[CaseContext.QA]!["dtype"] = 7))),
        Refused("dtype-mismatched-with-the-bytes", ["holds"], Dtype("BF16")),
    ];

    private static Action<CaseContext> Shape(JsonArray shape) => From(c => c.EditHeader(h => h[CaseContext.QA]!["shape"] = shape));

    private static IEnumerable<AdapterCase> Shapes() =>
    [
        Refused("shape-transposed", ["does not match the base model"], Shape([64, 4])),
        Refused("shape-flat", ["does not match the base model"], Shape([256])),
        Refused("shape-3d", ["does not match the base model"], Shape([1, 4, 64])),
        Refused("shape-negative", ["negative dimension"], Shape([-4, -64])),
        Refused("shape-overflowing", ["malformed header entry"], Shape([4294967296, 4294967296, 16])),
        Refused("shape-zero", ["holds", "does not match"], Shape([0, 64])),
    ];

    private static IEnumerable<AdapterCase> NonFinite() =>
    [
        Refused("weight-nan-f32", ["NaN"], From(c => c.SetValue(CaseContext.QA, 7, float.NaN))),
        Refused("weight-inf-bf16", ["Infinity"], From(c => c.SetValue(CaseContext.QB, 3, float.PositiveInfinity, "BF16"))),
        Refused("weight-minus-inf-f16", ["Infinity"], From(c => c.SetValue(CaseContext.VB, 0, float.NegativeInfinity, "F16"))),
        Refused("weight-3e38-f32", ["largest accepted weight magnitude"], From(c => c.SetValue(CaseContext.QA, 1, 3e38f))),
        Refused("weight-nan-last-element", ["NaN"], From(c => c.SetValue(CaseContext.VB, 32 * 4 - 1, float.NaN))),
        Refused("weight-huge-after-scaling", ["largest accepted weight magnitude"], c => c.WriteValid(alpha: 1e30)),
    ];
}
