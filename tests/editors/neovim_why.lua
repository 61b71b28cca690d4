-- End-to-end test in a real headless Neovim (>= 0.11), run by tests/editors/neovim.sh: "why this
-- policy?" one keystroke away. The hover on a Deployment's `kind:` line names the Namespace label that
-- decides its policy; its code lens, run as `vim.lsp.codelens.run()` runs it, shows that label
-- (podsec.showLocation → window/showDocument); go-to-definition on `namespace: web` reaches the
-- Namespace object; completion offers the label's levels.

local check, lenses = dofile(vim.env.PODSEC_REPO .. '/tests/editors/neovim_harness.lua')('neovim why e2e')
local workspace = assert(vim.env.PODSEC_WORKSPACE, 'PODSEC_WORKSPACE')

vim.cmd.edit(workspace .. '/deploy.yaml')
local deploy = vim.api.nvim_get_current_buf()
check(vim.wait(20000, function() return #vim.diagnostic.get(deploy) > 0 end, 50), 'no diagnostics')
local client = vim.lsp.get_clients({ bufnr = deploy, name = 'podsec' })[1]
check(client ~= nil, 'podsec is not attached')

-- 1. Hover on `kind: Deployment` (line 2).
local response = client:request_sync('textDocument/hover', {
  textDocument = { uri = vim.uri_from_bufnr(deploy) }, position = { line = 1, character = 0 },
}, 10000, deploy)
local hover = response and response.result and response.result.contents.value or ''
check(hover:find('label pod-security.kubernetes.io/enforce at [namespace.yaml:6]', 1, true) ~= nil, 'hover: ' .. hover)
print('hover on kind: ' .. hover:match('%- %*%*enforce%*%*[^\n]*'))

-- 2. The lens on that line, run as Neovim runs it: Neovim shows namespace.yaml at the enforce label.
lenses.enable(deploy)
check(vim.wait(10000, function() return #lenses.get(deploy) > 0 end, 50), 'no code lenses')
vim.api.nvim_win_set_cursor(0, { 2, 0 })
vim.lsp.codelens.run()
local function at(file, line)
  return vim.api.nvim_buf_get_name(0):sub(-#file) == file and vim.api.nvim_win_get_cursor(0)[1] == line
end
check(vim.wait(10000, function() return at('namespace.yaml', 6) end, 20),
  'the lens led to ' .. vim.api.nvim_buf_get_name(0) .. ':' .. vim.api.nvim_win_get_cursor(0)[1])
print('the lens showed ' .. vim.fn.fnamemodify(vim.api.nvim_buf_get_name(0), ':t') .. ':' .. vim.api.nvim_win_get_cursor(0)[1]
  .. ': ' .. vim.api.nvim_get_current_line())

-- 3. Go to definition from `namespace: web` (line 3) in the Deployment.
vim.api.nvim_set_current_buf(deploy)
local line3 = vim.api.nvim_buf_get_lines(deploy, 2, 3, true)[1]
vim.api.nvim_win_set_cursor(0, { 3, (line3:find('web}', 1, true)) })
vim.lsp.buf.definition()
check(vim.wait(10000, function() return at('namespace.yaml', 4) end, 20),
  'definition led to ' .. vim.api.nvim_buf_get_name(0) .. ':' .. vim.api.nvim_win_get_cursor(0)[1])
print('definition: ' .. vim.api.nvim_get_current_line())

-- 4. Completion of a level after the enforce label, through the protocol.
local namespace = vim.api.nvim_get_current_buf()
response = client:request_sync('textDocument/completion', {
  textDocument = { uri = vim.uri_from_bufnr(namespace) }, position = { line = 5, character = #'    pod-security.kubernetes.io/enforce: ' },
}, 10000, namespace)
local labels = {}
for _, item in ipairs(response and response.result and response.result.items or {}) do table.insert(labels, item.label) end
check(table.concat(labels, ',') == 'restricted,baseline,privileged', 'completion: ' .. vim.inspect(labels))
print('completion: ' .. table.concat(labels, ', '))
print('neovim why e2e: OK (' .. tostring(vim.version()):match('^[%d.]+') .. ')')
vim.cmd('qa!')
