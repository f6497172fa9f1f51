// Artifact commands; see artifact_commands.h.
#include "cli/artifact_commands.h"

#include <google/protobuf/util/time_util.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/cli_output.h"
#include "cli/remote_client.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace hat::cli {
namespace {

constexpr size_t kChunkBytes = 1 << 20;

const char* KindName(v1::ArtifactKind kind) {
  switch (kind) {
    case v1::ARTIFACT_KIND_SUPERNET_CHECKPOINT:
      return "supernet";
    case v1::ARTIFACT_KIND_SUBTRANSFORMER:
      return "subnet";
    default:
      return "unknown";
  }
}

absl::Status List(const RemoteOptions& o) {
  HAT_ASSIGN_OR_RETURN(Client c, Client::Connect(o));
  v1::ListArtifactsResponse resp;
  HAT_RETURN_IF_ERROR(
      c.Check(c.stub().ListArtifacts(c.Context().get(), v1::ListArtifactsRequest(), &resp)));
  if (o.json) {
    std::cout << ToJson(resp) << "\n";
    return absl::OkStatus();
  }
  std::cout << absl::StrFormat("%-11s %-9s %-8s %12s %-12s %-16s %s\n", "id", "kind", "space",
                               "bytes", "job", "sha256", "description");
  for (const v1::Artifact& a : resp.artifacts()) {
    std::cout << absl::StrFormat("%-11s %-9s %-8s %12d %-12s %-16s %s\n", a.artifact_id(),
                                 KindName(a.kind()), a.space_name(), a.size_bytes(),
                                 a.job_id().empty() ? "(uploaded)" : a.job_id(),
                                 a.sha256().substr(0, 16), a.description());
  }
  return absl::OkStatus();
}

absl::Status Download(const RemoteOptions& o) {
  HAT_ASSIGN_OR_RETURN(Client c, Client::Connect(o));
  HAT_ASSIGN_OR_RETURN(v1::Artifact header, DownloadArtifactTo(c, o.artifact_id, o.out));
  if (o.json) {
    std::cout << ToJson(header) << "\n";
  } else {
    std::cout << absl::StrFormat("%s: %d bytes, SHA-256 %s checked, written to %s\n",
                                 header.artifact_id(), header.size_bytes(), header.sha256(), o.out);
  }
  return absl::OkStatus();
}

absl::Status Upload(const RemoteOptions& o) {
  HAT_ASSIGN_OR_RETURN(FileDigest digest, DigestFile(o.file));
  v1::UploadArtifactRequest first;
  v1::Artifact* header = first.mutable_header();
  header->set_kind(v1::ARTIFACT_KIND_SUPERNET_CHECKPOINT);
  header->set_size_bytes(digest.size);
  header->set_sha256(digest.sha256);
  const size_t slash = o.file.find_last_of('/');
  header->set_filename(slash == std::string::npos ? o.file : o.file.substr(slash + 1));
  header->set_description(o.description);
  HAT_ASSIGN_OR_RETURN(Client c, Client::Connect(o));
  auto ctx = c.Context(-1);
  v1::Artifact stored;
  auto writer = c.stub().UploadArtifact(ctx.get(), &stored);
  std::ifstream in(o.file, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", o.file));
  std::vector<char> buffer(kChunkBytes);
  bool open = writer->Write(first);
  int64_t sent = 0;
  while (open && in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::streamsize got = in.gcount();
    if (got == 0) break;
    v1::UploadArtifactRequest chunk;
    chunk.set_data(buffer.data(), static_cast<size_t>(got));
    open = writer->Write(chunk);
    sent += got;
    PrintProgress("upload", static_cast<int>(sent >> 20), static_cast<int>(digest.size >> 20), 0,
                  -1, "MiB");
  }
  writer->WritesDone();
  HAT_RETURN_IF_ERROR(c.Check(writer->Finish()));
  if (o.json) {
    std::cout << ToJson(stored) << "\n";
  } else {
    std::cout << absl::StrFormat("%s: %s (%d bytes, SHA-256 %s)\n", stored.artifact_id(),
                                 stored.description(), stored.size_bytes(), stored.sha256());
  }
  return absl::OkStatus();
}

}  // namespace

void AddArtifactCommands(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<RemoteOptions>();
  auto run = [exit_code](absl::Status s) { *exit_code = ReportError(s); };

  CLI::App* artifacts = app.add_subcommand(
      "artifacts", "Files the server keeps: SuperTransformers (needs hat-server)");
  artifacts->require_subcommand(1);
  CLI::App* list = artifacts->add_subcommand("list", "List artifacts with size and checksum");
  AddConnectionFlags(list, o.get());
  list->callback([o, run] { run(List(*o)); });
  CLI::App* download = artifacts->add_subcommand("download", "Download an artifact, checked");
  AddConnectionFlags(download, o.get());
  download->add_option("id", o->artifact_id, "Artifact id (artifacts list)")->required();
  download->add_option("--out", o->out, "File to write")->required();
  download->callback([o, run] { run(Download(*o)); });

  CLI::App* upload =
      app.get_subcommand("supernet")
          ->add_subcommand(
              "upload", "Upload a SuperTransformer checkpoint as an artifact (needs hat-server)");
  AddConnectionFlags(upload, o.get());
  upload->add_option("file", o->file, "Checkpoint file (hatctl supernet train)")->required();
  upload->add_option("--description", o->description, "What it is, for artifacts list");
  upload->callback([o, run] { run(Upload(*o)); });
}

}  // namespace hat::cli
