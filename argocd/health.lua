-- Argo CD health check for nextimage.dev/ImageOptimizer.
-- Install: docs/install.md, "Argo CD" (argocd-cm key resource.customizations.health.nextimage.dev_ImageOptimizer).
-- Argo CD runs this with gopher-lua (Lua 5.1) and a global `obj`; keep it 5.1-compatible.
-- It reads the kstatus conditions the operator writes (Stalled, Reconciling, Ready), and
-- Degraded for objects an older operator wrote; a condition counts only when it describes
-- the current generation (its own observedGeneration, else status.observedGeneration).
--
--   Degraded     Stalled (or Degraded) is True: the spec cannot be realised (the message says why)
--   Progressing  no status yet, status.observedGeneration behind metadata.generation,
--                Reconciling True, or Ready not True
--   Healthy      Ready is True for the current generation
local hs = { status = "Progressing", message = "Waiting for the operator to report status" }
if obj.status == nil then
  return hs
end

local generation = 0
if obj.metadata ~= nil and obj.metadata.generation ~= nil then
  generation = obj.metadata.generation
end
local observed = obj.status.observedGeneration or 0

if observed < generation then
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local conditions = {}
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    local of = condition.observedGeneration or observed
    if of >= generation then
      conditions[condition.type] = condition
    end
  end
end

local function isTrue(type)
  return conditions[type] ~= nil and conditions[type].status == "True"
end
local function describe(condition, default)
  return condition.message or condition.reason or default
end

if isTrue("Stalled") then
  hs.status = "Degraded"
  hs.message = describe(conditions["Stalled"], "Stalled")
  return hs
end
if isTrue("Degraded") then
  hs.status = "Degraded"
  hs.message = describe(conditions["Degraded"], "Degraded")
  return hs
end
if isTrue("Reconciling") then
  hs.message = describe(conditions["Reconciling"], "Reconciling")
  return hs
end
if isTrue("Ready") then
  hs.status = "Healthy"
  hs.message = conditions["Ready"].message or "Ready"
  return hs
end

if conditions["Ready"] ~= nil then
  hs.message = describe(conditions["Ready"], "Not ready yet")
elseif obj.status.conditions ~= nil and #obj.status.conditions > 0 then
  hs.message = "Waiting for the operator to report on generation " .. tostring(generation)
end
return hs
