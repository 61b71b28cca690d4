-- End-to-end test in a real headless Neovim (>= 0.11) with the shipped config and the real Helm
-- (PODSEC_HELM, given as the podsec.helm setting), run by tests/editors/neovim.sh on a workspace holding
-- the shop chart and a .podsec.yaml that renders it with values-debug.yaml: the rendered findings arrive
-- at the values line after non-ASCII text (Neovim's byte column), with progress; an unsaved edit returns
-- the file to its static reading (nothing, for a values file), and :write renders again.

local check = dofile(vim.env.PODSEC_REPO .. '/tests/editors/neovim_harness.lua')('neovim charts e2e')
local workspace = assert(vim.env.PODSEC_CHARTS, 'PODSEC_CHARTS')
local helm = assert(vim.env.PODSEC_HELM, 'PODSEC_HELM')
vim.lsp.config('podsec', { settings = { podsec = { helm = helm } } })

local progress = {}
vim.api.nvim_create_autocmd('LspProgress', {
  callback = function(event)
    local value = event.data.params.value
    if type(value) == 'table' and value.kind then
      table.insert(progress, value.kind .. ': ' .. tostring(value.message))
    end
  end,
})

local function found(buf, code)
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.source == 'podsec' and d.code == code then return d end
  end
  return nil
end

vim.cmd.edit(workspace .. '/shop/values-debug.yaml')
local values = vim.api.nvim_get_current_buf()
check(vim.wait(30000, function() return found(values, 'capabilities_baseline') ~= nil end, 50),
  'no rendered finding in values-debug.yaml: ' .. vim.inspect(vim.diagnostic.get(values)))
local capability = found(values, 'capabilities_baseline')
-- Line 5 (0-based 4), after `ü` and `é`: UTF-16 column 49 on the wire, byte column 51 in Neovim.
check(capability.lnum == 4 and capability.col == 51,
  string.format('capabilities_baseline at %d:%d, not 4:51', capability.lnum, capability.col))
check(capability.message:find('rendered by helm template shop-debug', 1, true) ~= nil, capability.message)
local host = found(values, 'hostNamespaces')
check(host ~= nil and host.lnum == 1 and host.col == 0, 'hostNamespaces: ' .. vim.inspect(host))
check(vim.wait(10000, function()
  for _, p in ipairs(progress) do
    if p:find('^end: Rendered') then return true end
  end
  return false
end, 50), 'no end of the rendering progress: ' .. vim.inspect(progress))
local begun = false
for _, p in ipairs(progress) do
  begun = begun or p:find('^begin: Rendering Helm chart shop') ~= nil
end
check(begun, 'no beginning of the rendering progress: ' .. vim.inspect(progress))
print('rendered findings at the values lines: ' .. capability.message)

-- Typing: the values file has its static reading (nothing) until it is saved.
vim.api.nvim_buf_set_lines(values, 0, 0, false, { '# edited' })
check(vim.wait(10000, function() return #vim.diagnostic.get(values) == 0 end, 50),
  'still rendered findings after an unsaved edit: ' .. vim.inspect(vim.diagnostic.get(values)))
print('an unsaved edit: the static reading')
vim.cmd.write()
check(vim.wait(30000, function()
  local d = found(values, 'capabilities_baseline')
  return d ~= nil and d.lnum == 5 and d.col == 51
end, 50), 'no rendering after :write: ' .. vim.inspect(vim.diagnostic.get(values)))
print('saved: rendered again, one line lower')
print('neovim charts e2e: OK (' .. tostring(vim.version()):match('^[%d.]+') .. ')')
vim.cmd('qa!')
