// Stable Diffusion for Fiji: a headless batch.
// Every prompt x every seed is generated and saved as PNG with its AUTOMATIC1111 "parameters" text chunk.
//
// Plain ImageJ 1.x (dialogs need a display; a virtual one will do):
//   xvfb-run -a java -jar ij.jar -batch stable-diffusion-batch.ijm "output=[/path/to/out] steps=20 size=64"
// Options (all optional): output= folder (default: a "stable-diffusion" folder in the temp folder),
//   steps= (20), size= width and height in pixels (0: the model's own), model= a model folder (default: the
//   folder chosen in Stable Diffusion Settings..., or the shipped model), device= auto, cpu or cuda.
args = getArgument();
out = call("ij.Macro.getValue", args, "output", getDirectory("temp") + "stable-diffusion");
steps = call("ij.Macro.getValue", args, "steps", "20");
size = call("ij.Macro.getValue", args, "size", "0");
model = call("ij.Macro.getValue", args, "model", "");
device = call("ij.Macro.getValue", args, "device", "auto");
if (!endsWith(out, File.separator)) out = out + File.separator;
File.makeDirectory(out);
if (model != "") run("Stable Diffusion Settings...", "model=[" + model + "] device=" + device + " threads=0");

prompts = newArray("a red circle on a blue background", "a yellow triangle on a green background");
seeds = newArray(1, 2, 3);

setBatchMode(true);
for (p = 0; p < prompts.length; p++) {
	for (s = 0; s < seeds.length; s++) {
		run("Text to Image...", "prompt=[" + prompts[p] + "] negative=[] steps=" + steps + " guidance=7 seed="
			+ seeds[s] + " width=" + size + " height=" + size + " scheduler=default batch=1");
		name = "prompt" + (p + 1) + "-seed" + seeds[s] + ".png";
		run("Save as PNG with Parameters...", "path=[" + out + name + "]");
		close();
		print("saved " + out + name);
	}
}
