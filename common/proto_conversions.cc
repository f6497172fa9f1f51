// common/ <-> hat.v1 conversions, walking protobuf reflection in the gene order so that the field
// tables in design_space.h stay the single list of genes.
#include "common/proto_conversions.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace hat {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

const FieldDescriptor* Field(const Message& m, const std::string& name) {
  return m.GetDescriptor()->FindFieldByName(name);
}

// Proto field names within EncoderConfig/DecoderConfig drop the stack prefix of the gene name:
// "decoder_ffn_embed_dim" -> "ffn_embed_dim".
std::string StackFieldName(const GeneInfo& info) {
  const std::string name = info.name;
  return name.substr(name.find('_') + 1);
}

}  // namespace

void ToProto(const DesignSpace& space, v1::DesignSpace* out) {
  out->Clear();
  out->set_name(space.name);
  v1::SuperTransformerDims* super = out->mutable_super();
  for (const SuperDimInfo& dim : AllSuperDims()) {
    super->GetReflection()->SetInt32(super, Field(*super, dim.name), space.super.*dim.field);
  }
  v1::ElasticChoices* choices = out->mutable_choices();
  const Reflection* r = choices->GetReflection();
  for (const GeneInfo& info : AllGenes()) {
    const FieldDescriptor* f = Field(*choices, info.name);
    for (int v : space.Choices(info.gene)) r->AddInt32(choices, f, v);
  }
}

absl::StatusOr<DesignSpace> FromProto(const v1::DesignSpace& proto) {
  DesignSpace space;
  space.name = proto.name();
  const v1::SuperTransformerDims& super = proto.super();
  for (const SuperDimInfo& dim : AllSuperDims()) {
    space.super.*dim.field = super.GetReflection()->GetInt32(super, Field(super, dim.name));
  }
  const v1::ElasticChoices& choices = proto.choices();
  const Reflection* r = choices.GetReflection();
  for (const GeneInfo& info : AllGenes()) {
    const FieldDescriptor* f = Field(choices, info.name);
    const int n = r->FieldSize(choices, f);
    if (static_cast<size_t>(n) > kMaxListLength) {
      return absl::InvalidArgumentError(absl::StrCat("design_space.choices.", info.name, ": ", n,
                                                     " entries, more than ", kMaxListLength));
    }
    std::vector<int>& values = space.MutableChoices(info.gene);
    for (int i = 0; i < n; ++i) values.push_back(r->GetRepeatedInt32(choices, f, i));
  }
  HAT_RETURN_IF_ERROR(Annotate(space.Validate(), "design_space"));
  return space;
}

void ToProto(const SubTransformerConfig& config, v1::SubTransformerConfig* out) {
  out->Clear();
  for (const GeneInfo& info : AllGenes()) {
    Message* stack = info.decoder ? static_cast<Message*>(out->mutable_decoder())
                                  : static_cast<Message*>(out->mutable_encoder());
    const Reflection* r = stack->GetReflection();
    const FieldDescriptor* f = Field(*stack, StackFieldName(info));
    if (info.per_layer) {
      for (int v : *config.List(info.gene)) r->AddInt32(stack, f, v);
    } else {
      r->SetInt32(stack, f, *config.Scalar(info.gene));
    }
  }
}

absl::StatusOr<SubTransformerConfig> FromProto(const v1::SubTransformerConfig& proto) {
  SubTransformerConfig config;
  for (const GeneInfo& info : AllGenes()) {
    const Message& stack = info.decoder ? static_cast<const Message&>(proto.decoder())
                                        : static_cast<const Message&>(proto.encoder());
    const Reflection* r = stack.GetReflection();
    const FieldDescriptor* f = Field(stack, StackFieldName(info));
    if (!info.per_layer) {
      *config.MutableScalar(info.gene) = r->GetInt32(stack, f);
      continue;
    }
    const int n = r->FieldSize(stack, f);
    if (static_cast<size_t>(n) > kMaxListLength) {
      return absl::InvalidArgumentError(
          absl::StrCat("config.", info.name, ": ", n, " entries, more than ", kMaxListLength));
    }
    std::vector<int>& values = *config.MutableList(info.gene);
    for (int i = 0; i < n; ++i) values.push_back(r->GetRepeatedInt32(stack, f, i));
  }
  HAT_RETURN_IF_ERROR(Annotate(ValidateConfigShape(config), "config"));
  return config;
}

void ToProto(const SubTransformerConfig& config, v1::KeyedConfig* out) {
  out->set_canonical_key(CanonicalKey(config));
  out->set_config_id(ConfigId(config));
  ToProto(config, out->mutable_config());
}

}  // namespace hat
