#include "controllers/wiring.h"

#include <vector>

#include "controllers/scalingpolicy/reconciler.h"

namespace redisfleet::controllers {
namespace {

std::vector<api::Key> KeysOf(store::ObjectStore& store, api::Kind kind) {
  std::vector<api::Key> keys;
  if (auto all = store.List(kind)) {
    for (const auto& o : *all) keys.push_back(api::MetaOf(o).key());
  }
  return keys;
}

// Every instance of `namespace_` that `pick` accepts.
template <typename Pick>
void EnqueueInstances(store::ObjectStore& store, runtime::Controller& instances, const std::string& namespace_,
                      Pick pick) {
  auto all = store.List(api::Kind::kRedisInstance);
  if (!all) return;
  for (const auto& o : *all) {
    const auto& ri = std::get<api::RedisInstance>(o);
    if (ri.metadata.namespace_ == namespace_ && pick(ri)) instances.Enqueue(ri.metadata.key());
  }
}

}  // namespace

void WakePoolsOnUsage(UsageLedger& ledger, const std::shared_ptr<runtime::Controller>& pools) {
  ledger.SetOnChange([pools](const std::string& pool_id) {
    const auto dot = pool_id.find('.');  // "<namespace>.<name>"; namespaces hold no '.'
    if (dot != std::string::npos) pools->Enqueue(api::Key{pool_id.substr(0, dot), pool_id.substr(dot + 1)});
  });
}

void EnqueueInstancesOfPool(store::ObjectStore& store, runtime::Controller& instances, const api::Key& pool) {
  EnqueueInstances(store, instances, pool.namespace_,
                   [&](const api::RedisInstance& ri) { return ri.spec.host_pool == pool.name; });
}

void ConnectControllers(const std::shared_ptr<store::ObjectStore>& store, const ControllerSet& c) {
  auto ri = c.redis_instances;
  auto hp = c.host_pools;
  auto sp = c.scaling_policies;
  ri->SetResyncSource([store] { return KeysOf(*store, api::Kind::kRedisInstance); });
  hp->SetResyncSource([store] { return KeysOf(*store, api::Kind::kHostPool); });
  if (sp) sp->SetResyncSource([store] { return KeysOf(*store, api::Kind::kScalingPolicy); });

  (void)store->Watch(api::Kind::kRedisInstance, [store, ri, hp, sp](const store::Event& ev) {
    ri->Enqueue(ev.key);
    auto o = store->Get(api::Kind::kRedisInstance, ev.key);
    if (!o) return;
    const auto& instance = std::get<api::RedisInstance>(*o);
    if (!instance.spec.host_pool.empty()) hp->Enqueue(api::Key{ev.key.namespace_, instance.spec.host_pool});
    if (sp) {
      for (const auto& p : PoliciesFor(*store, instance)) sp->Enqueue(p.metadata.key());
    }
  });
  (void)store->Watch(api::Kind::kHostPool, [store, ri, hp](const store::Event& ev) {
    hp->Enqueue(ev.key);
    EnqueueInstancesOfPool(*store, *ri, ev.key);
  });
  if (sp) {
    (void)store->Watch(api::Kind::kScalingPolicy, [store, ri, sp](const store::Event& ev) {
      sp->Enqueue(ev.key);
      EnqueueInstances(*store, *ri, ev.key.namespace_, [](const api::RedisInstance&) { return true; });
    });
  }
}

}  // namespace redisfleet::controllers
