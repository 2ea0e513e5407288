"""The autograd basics, step by step, as torch's tutorials teach them.

Run: python examples/demo.py
"""

import tapegrad as torch


def show(label: str, value: object) -> None:
    print(f"{label:<44} {value!s}")


print("1. A leaf that requires grad, and a graph recorded as code runs")
x = torch.tensor(3.0, requires_grad=True)
y = x**2
show("x", x)
show("y = x**2", y)
show("y.grad_fn.next_functions", y.grad_fn.next_functions)
y.backward()
show("after y.backward(): x.grad = dy/dx = 2x", x.grad)

print("\n2. Vectors: y = 2 * x.dot(x), so dy/dx = 4x")
x = torch.arange(4.0, requires_grad=True)
y = 2 * torch.dot(x, x)
y.backward()
show("x.grad", x.grad)

print("\n3. Gradients accumulate until you zero them")
x = torch.tensor(3.0, requires_grad=True)
(x * x * x).backward()
show("d(x*x*x)/dx at 3", x.grad)
(x * x * x).backward()
show("after a second backward (accumulated)", x.grad)
x.grad.zero_()
show("after x.grad.zero_()", x.grad)

print("\n4. Vector-Jacobian products: backward(gradient=v)")
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x * x
y.backward(gradient=torch.tensor([1.0, 0.1, 0.01]))
show("v^T J for y = x*x, v = [1, .1, .01]", x.grad)

print("\n5. Higher order: create_graph=True records the backward pass")
x = torch.tensor(2.0, requires_grad=True)
(dy,) = torch.autograd.grad(x**3, x, create_graph=True)
(d2y,) = torch.autograd.grad(dy, x, create_graph=True)
(d3y,) = torch.autograd.grad(d2y, x)
show("d/dx x^3, d2, d3 at 2", (dy, d2y, d3y))

print("\n6. no_grad and detach stop recording")
with torch.no_grad():
    z = x * 2
show("x * 2 under no_grad", z)
show("x.detach().requires_grad", x.detach().requires_grad)

print("\n7. In-place changes to saved values are caught (and tapegrad says where)")
a = torch.tensor([1.0, 2.0], requires_grad=True) * 1
b = a.sin()
a.add_(1)
try:
    b.sum().backward()
except RuntimeError as e:
    print("RuntimeError:", e)

print("\n8. Logistic regression, one hand-written SGD loop")
torch.manual_seed(0)
X = torch.randn(64, 2)
t = (X[:, 0] + X[:, 1] > 0).float()
w = torch.zeros(2, requires_grad=True)
bias = torch.zeros(1, requires_grad=True)
opt = torch.optim.SGD([w, bias], lr=0.5)
for step in range(101):
    p = torch.sigmoid(X @ w + bias).clamp(1e-7, 1 - 1e-7)
    loss = -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 25 == 0:
        acc = ((p > 0.5).float() == t).float().mean()
        print(f"   step {step:3d}  loss {loss.item():.4f}  accuracy {acc.item():.2f}")
