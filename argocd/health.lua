-- Argo CD health check for nextimage.dev/ImageOptimizer.
-- Install: argocd/README.md (argocd-cm key resource.customizations.health.nextimage.dev_ImageOptimizer).
-- Argo CD runs this with gopher-lua (Lua 5.1) and a global `obj`; keep it 5.1-compatible.
--
--   Degraded     the Degraded condition is True (the message says why)
--   Progressing  no status yet, status.observedGeneration behind metadata.generation,
--                or Ready not True
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

local ready = nil
local degraded = nil
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Ready" then
      ready = condition
    elseif condition.type == "Degraded" then
      degraded = condition
    end
  end
end

-- A Degraded condition counts only when it describes the current spec.
if degraded ~= nil and degraded.status == "True" and observed >= generation then
  hs.status = "Degraded"
  hs.message = degraded.message or degraded.reason or "Degraded"
  return hs
end

if observed < generation then
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or "Ready"
  return hs
end

if ready ~= nil then
  hs.message = ready.message or ready.reason or "Not ready yet"
end
return hs
