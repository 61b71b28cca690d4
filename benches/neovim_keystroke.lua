-- Run by benches/neovim_keystroke.rs inside a real headless Neovim: opens the 10,000-line real file with
-- the shipped config (editors/neovim/lsp/podsec.lua), virtual text on, and types into it one character at
-- a time. A 1 ms timer on Neovim's main loop measures how long the loop is blocked: each late tick is a
-- stall (JSON decoding, the diagnostic handler, virtual text and signs all run on that loop). Prints one
-- line per scenario: the longest stall per keystroke (p50, p99, max), the blocked time in all, and the
-- publications received; and the one stall of the publication that follows when the typing stops.

local binary = assert(vim.env.PODSEC_BIN, 'PODSEC_BIN')
local file = assert(vim.env.PODSEC_FILE, 'PODSEC_FILE')
local repo = assert(vim.env.PODSEC_REPO, 'PODSEC_REPO')
local edits = tonumber(vim.env.PODSEC_EDITS or '100')
-- Per keystroke: the client's didChange debounce (150 ms), the server's (50 ms), the analysis, the
-- publication and its handling all fit in this window.
local window_ms = tonumber(vim.env.PODSEC_WINDOW_MS or '400')

local function fail(message)
  io.stderr:write('neovim keystroke bench: FAIL: ' .. message .. '\n')
  vim.cmd('cquit 1')
end

vim.opt.runtimepath:prepend(repo .. '/editors/neovim')
vim.diagnostic.config({ virtual_text = true, signs = true, underline = true, update_in_insert = true })
vim.lsp.config('podsec', { cmd = { binary, 'lsp' } })
vim.lsp.enable('podsec')

local publications = 0
local handle = vim.lsp.handlers['textDocument/publishDiagnostics']
vim.lsp.handlers['textDocument/publishDiagnostics'] = function(err, result, ctx, config)
  publications = publications + 1
  return handle(err, result, ctx, config)
end
-- Neovim 0.12 pulls: count its full reports the same way.
local pulled = vim.lsp.handlers['textDocument/diagnostic']
if pulled then
  vim.lsp.handlers['textDocument/diagnostic'] = function(err, result, ctx, config)
    if result and result.kind == 'full' then publications = publications + 1 end
    return pulled(err, result, ctx, config)
  end
end

-- The stall probe.
local tick_ns = 1e6
local last = vim.uv.hrtime()
local stall_max, blocked = 0, 0
local probe = vim.uv.new_timer()
probe:start(1, 1, function()
  local now = vim.uv.hrtime()
  local late = now - last - tick_ns
  last = now
  if late > 1e6 then
    blocked = blocked + late
    if late > stall_max then stall_max = late end
  end
end)

vim.cmd.edit(file)
local buf = vim.api.nvim_get_current_buf()
local function count() return #vim.diagnostic.get(buf) end
if not vim.wait(60000, function() return count() > 0 end, 10) then fail('no diagnostics within 60 s') end
-- Settled: no publication for a second.
local settled = publications
while true do
  vim.wait(1000)
  if publications == settled then break end
  settled = publications
end
local diagnostics = count()

local function percentile(sorted, p)
  local index = math.floor((#sorted - 1) * p + 0.5) + 1
  return sorted[math.min(index, #sorted)]
end

-- `edit(i)` makes the i-th keystroke.
local function scenario(name, edit)
  local stalls, total, received = {}, 0, publications
  for i = 1, edits do
    vim.wait(20)
    stall_max, blocked = 0, 0
    last = vim.uv.hrtime()
    edit(i)
    vim.wait(window_ms)
    stalls[#stalls + 1] = stall_max / 1e6
    total = total + blocked / 1e6
  end
  table.sort(stalls)
  print(string.format(
    '%s (%d diagnostics, %d keystrokes): longest stall per keystroke p50 %.1f ms, p99 %.1f ms, max %.1f ms; blocked %.1f ms per keystroke; %d publications',
    name, diagnostics, edits, percentile(stalls, 0.5), percentile(stalls, 0.99), stalls[#stalls],
    total / edits, publications - received))
end

-- The second after the typing stops: the stall of the catch-up publication, while nobody types.
local function catch_up()
  local received = publications
  stall_max, blocked = 0, 0
  last = vim.uv.hrtime()
  vim.wait(2500)
  print(string.format(
    'after the typing stops (%d diagnostics): the catch-up publication stalls %.1f ms once; %d publications',
    count(), stall_max / 1e6, publications - received))
end
-- No keystroke at all: the stalls of the machine itself (other processes share its cores).
scenario('idle, for comparison', function() end)
-- Typing into the comment on the first line: no verdict changes.
local first = vim.api.nvim_buf_get_lines(buf, 0, 1, true)[1]
scenario('typing in a comment', function(i)
  vim.api.nvim_buf_set_text(buf, 0, #first + i - 1, 0, #first + i - 1, { 'x' })
end)
-- A new line at the top: every diagnostic moves down one line, no verdict changes. Neovim's extmarks move
-- them already: the server sends them again only once the typing stops (below).
scenario('a new line at the top', function()
  vim.api.nvim_buf_set_lines(buf, 1, 1, true, { '# new line' })
end)
-- The typing stops: a second later the server publishes the moved diagnostics once (jumps and floats
-- read the published positions in 0.11). One stall while nobody types.
catch_up()
-- Typing into a container's name, which its findings' messages quote: every keystroke rewords some
-- diagnostics (and grows those that underline the name) without changing a verdict. The server sends
-- the new wording once the typing stops.
local named
for _, diagnostic in ipairs(vim.diagnostic.get(buf)) do
  local text = vim.api.nvim_buf_get_lines(buf, diagnostic.lnum, diagnostic.lnum + 1, true)[1]
  if text:match('^%s*%- name: [%w-]+$') then
    named = { line = diagnostic.lnum, text = text }
    break
  end
end
if not named then fail('no container name line with a finding') end
scenario('typing into a container name (its findings reworded, no verdict changes)', function(i)
  vim.api.nvim_buf_set_text(buf, named.line, #named.text + i - 1, named.line, #named.text + i - 1, { 'x' })
end)
catch_up()
-- A keystroke that changes a verdict (`privileged: true` and `false` in turn): each must be sent, whole.
local toggled
for line, text in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, true)) do
  local column = text:find('privileged: true$')
  if column then
    toggled = { line = line - 1, column = column + #'privileged: ' - 1 }
    break
  end
end
if toggled then
  scenario('a keystroke that changes a verdict (privileged: true, false, true...)', function(i)
    local from, to = 'true', 'false'
    if i % 2 == 0 then from, to = 'false', 'true' end
    vim.api.nvim_buf_set_text(buf, toggled.line, toggled.column, toggled.line, toggled.column + #from, { to })
  end)
else
  print('a keystroke that changes a verdict: no `privileged: true` line in the file')
end
vim.cmd('qall!')
