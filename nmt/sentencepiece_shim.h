/* The C interface of hatfleet's SentencePiece shim (libhat_spm_shim.so), the one module that
 * links Debian's libsentencepiece. That library carries its own copy of protobuf-lite and exports
 * its symbols; linked into a process that also has libprotobuf (gRPC, LibTorch), the two copies
 * interpose and the process crashes while loading. So the shim is never linked: it is opened at
 * run time with RTLD_LOCAL | RTLD_DEEPBIND (sentencepiece_bridge.cc), which keeps
 * SentencePiece on its own protobuf and everything else on the system one.
 *
 * Every function returns 0 on success; on failure non-zero with a malloc'ed message in *error
 * (free it with hat_spm_free). Buffers handed out are malloc'ed and freed with hat_spm_free. */
#ifndef HATFLEET_NMT_SENTENCEPIECE_SHIM_H_
#define HATFLEET_NMT_SENTENCEPIECE_SHIM_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Trains on `n` sentences with `n_options` trainer flags (SentencePiece's names and values); the
 * serialized model in *model (*model_len bytes). */
int hat_spm_train(const char* const* sentences, size_t n, const char* const* keys,
                  const char* const* values, size_t n_options, char** model, size_t* model_len,
                  char** error);

/* A processor from a serialized model, in *processor; release with hat_spm_release. */
int hat_spm_load(const char* model, size_t model_len, void** processor, char** error);
void hat_spm_release(void* processor);

int hat_spm_encode(const void* processor, const char* text, size_t text_len, int** ids,
                   size_t* n_ids, char** error);
int hat_spm_decode(const void* processor, const int* ids, size_t n_ids, char** text,
                   size_t* text_len, char** error);
int hat_spm_piece_size(const void* processor);
/* The piece of `id` ("" when out of range), malloc'ed. */
char* hat_spm_id_to_piece(const void* processor, int id);

void hat_spm_free(void* buffer);

#ifdef __cplusplus
}
#endif

#endif /* HATFLEET_NMT_SENTENCEPIECE_SHIM_H_ */
