"""The whole-model C ABI of libolora_cuda (olora_cuda_runner.h) for ctypes: the config struct, the constants and
the signatures. Standard library only, so gpu_check.py's self-test (no GPU, no numpy) drives the same binding the
GPU end-to-end check (gpu_e2e.py) uses."""
import ctypes

OK = 0
HOST_DEVICE = -1
BF16, NF4, INT8 = 0, 1, 2
W_EMBED, W_FINAL_NORM, W_LM_HEAD, W_INPUT_NORM, W_POST_NORM, W_QKV, W_O, W_GATE_UP, W_DOWN = range(9)


class Config(ctypes.Structure):
    _fields_ = [("rope_theta", ctypes.c_double), ("rope_factor", ctypes.c_double),
                ("rope_low_freq_factor", ctypes.c_double), ("rope_high_freq_factor", ctypes.c_double),
                ("rope_original_max_positions", ctypes.c_double), ("rms_norm_eps", ctypes.c_float)] + [
        (name, ctypes.c_int32) for name in
        ("rope_kind", "vocab_size", "hidden_size", "intermediate_size", "num_layers", "num_heads", "kv_heads",
         "head_dim", "sliding_window", "max_positions", "block_size", "num_blocks", "num_slots", "max_rank",
         "weight_format", "lm_head_format", "max_batch_tokens")]


def bind(lib):
    p, i32, i64 = ctypes.c_void_p, ctypes.c_int32, ctypes.c_int64
    lib.olora_cuda_context_create.argtypes = [i32, ctypes.POINTER(p)]
    lib.olora_cuda_context_destroy.argtypes = [p]
    lib.olora_cuda_model_create.argtypes = [p, ctypes.POINTER(Config), ctypes.POINTER(p)]
    lib.olora_cuda_model_destroy.argtypes = [p]
    lib.olora_cuda_model_set_weight.argtypes = [p, i32, i32, p, i64, p, i64]
    lib.olora_cuda_model_set_adapter.argtypes = [p, i32, i32, i32, i32, p, p]
    lib.olora_cuda_model_set_adapter_scale.argtypes = [p, i32, ctypes.c_float]
    lib.olora_cuda_model_forward.argtypes = [p, i32, p, i32, p, p, p, p, i32, i32, p, p]
    lib.olora_cuda_model_memory.argtypes = [p] + [ctypes.POINTER(i64)] * 4


